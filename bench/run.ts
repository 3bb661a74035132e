import 'reflect-metadata';
import { backlog } from './backlog';
import { burst } from './burst';
import { ceiling } from './ceiling';
import { fanout } from './fanout';
import { fifo } from './fifo';
import { fanoutFilters } from './fanout-filters';
import { consoleTiming } from './console';
import { isolation } from './isolation';
import { listen } from './listen';
import { logCost } from './log-cost';
import { logPages } from './log-pages';
import { observability } from './observability';
import { pgboss } from './pgboss';
import { queryLoad } from './query-load';
import { saveCost } from './save-cost';
import { steady } from './steady';
import { templates } from './templates';
import { type Benchmark, type DatabaseServer, loadLine, QUICK, startDatabaseServer } from './support';
import { workers } from './workers';
import { webhookStats } from './webhook-stats';
import { wsFlood } from './ws-flood';

/**
 * `npm run bench` runs every benchmark; `node dist/bench/run.js burst` runs one; `--quick`
 * runs each at a reduced size (all of them in under 2 minutes on 2 cores).
 * Options are `--name=value` flags or BENCH_* variables (see bench/README.md).
 * Benchmarks are run on purpose, never from the test suite: they take minutes and load the machine.
 */
const BENCHMARKS: Benchmark[] = [ceiling, steady, backlog, fanout, fanoutFilters, isolation, saveCost, workers, pgboss, burst, logPages, queryLoad, wsFlood, listen, webhookStats, logCost, consoleTiming, observability, fifo, templates];

const log = (line: string) => console.log(line);

function usage(): string {
  return [
    'usage: node dist/bench/run.js [name ...] [--quick] [--stall-ms=N] (options and their defaults: bench/README.md)',
    ...BENCHMARKS.map((b) => `  ${b.name.padEnd(13)} ${b.description}`),
  ].join('\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    log(usage());
    return 0;
  }
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}\n${usage()}`);
    return 2;
  }
  const selected = names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.includes(b.name));
  log(`cms-webhooks benchmarks${QUICK ? ' (--quick: reduced sizes)' : ''}, ${new Date().toISOString()}, Node ${process.version}, ${loadLine()}`);
  const runStarted = performance.now();

  const server: DatabaseServer = await startDatabaseServer(log);
  // Ctrl-C must not leave a postgres running or its data directory behind.
  let cleaning: Promise<void> | null = null;
  const cleanup = () => (cleaning ??= server.close().catch((e) => console.error(`cleanup failed: ${(e as Error).message}`)));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: stopping`);
      void cleanup().then(() => process.exit(130));
    });
  }
  try {
    for (const benchmark of selected) {
      log('');
      log(`== ${benchmark.name}: ${benchmark.description}`);
      const started = performance.now();
      await benchmark.run(server, log);
      log(`== ${benchmark.name} took ${((performance.now() - started) / 1000).toFixed(0)} s (${loadLine()})`);
    }
  } finally {
    await cleanup();
  }
  log('');
  log(`all done in ${((performance.now() - runStarted) / 1000).toFixed(0)} s (${loadLine()})`);
  return 0;
}

main().then(
  // Exit explicitly: a benchmark must end by itself even if some library left a handle open.
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
