import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Benchmark, type BenchApp, type DatabaseServer, loadLine, ms, option, runPool, sized, startBenchApp, summarize, table } from './support';
import { startReceiver } from './support-http';

/**
 * The question: *how long from a save's commit until `cms-webhooks listen` has delivered it to
 * a local server?* The path measured: the outbox row commits, its NOTIFY wakes the event
 * stream, the subscription carries the body over WebSocket to the listen process (the real
 * command, a child process), which signs it and POSTs it to the receiver.
 *
 * As in `burst`, the commit is the moment `documents.create()` resolved and the receipt the
 * moment the receiver had the body, both on this process's clock.
 */
// Run from dist/bench: the command is the SDK's own build, sdk/dist.
const CLI = path.join(__dirname, '..', '..', 'sdk', 'dist', 'cli', 'main.js');

async function fixture(bench: BenchApp): Promise<{ projectId: string; blueprintId: string }> {
  const { services } = bench.app;
  const project = await services.projects.create(bench.actor, 'Listen bench');
  const blueprint = await services.blueprints.create(bench.actor, project.id, { name: 'Post', fields: [{ name: 'body', type: 'richtext' }] });
  return { projectId: project.id, blueprintId: blueprint.id };
}

async function run(server: DatabaseServer, log: (line: string) => void): Promise<void> {
  const saves = sized('listen-saves', 200, 20);
  const concurrency = option('save-concurrency', 16);
  const stallMs = option('stall-ms', 60_000);
  const received = new Map<string, number>();
  let awaited: { id: string; resolve: () => void } | undefined;
  const receiver = await startReceiver((body, at) => {
    const id = (JSON.parse(body) as { metadata: { document_id: string } }).metadata.document_id;
    if (!received.has(id)) received.set(id, at);
    if (awaited?.id === id) awaited.resolve();
  });
  const bench = await startBenchApp(await server.createDatabase('listen'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-listen-home-'));
  const ids = await fixture(bench);
  const child = spawn(process.execPath, [CLI, 'listen', '--project', ids.projectId, '--forward-to', receiver.url, '--api-url', bench.graphqlUrl, '--json'], {
    env: { PATH: process.env.PATH ?? '', HOME: home, CMS_TOKEN: bench.token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`listen did not start:\n${stderr}`)), stallMs);
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/Ready: forwarding/.test(stderr)) (clearTimeout(timer), resolve());
      });
      child.on('exit', (code) => reject(new Error(`listen exited (${code}):\n${stderr}`)));
    });
    const deadline = Date.now() + stallMs;
    while (bench.app.services.eventFeed.subscriberCount() === 0) {
      if (Date.now() > deadline) throw new Error('listen never subscribed');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const create = (title: string) => bench.app.services.documents.create(bench.actor, ids.projectId, { blueprintId: ids.blueprintId, title, fields: { body: '<p>bench</p>' } });

    log(`  ${saves} saves one at a time, each awaited at the receiver (${loadLine()})`);
    const single: number[] = [];
    for (let i = 0; i < saves; i++) {
      const reached = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`save ${i}: no receipt within ${stallMs} ms`)), stallMs);
        awaited = { id: '', resolve: () => (clearTimeout(timer), resolve()) };
      });
      const document = await create(`One ${i}`);
      const committedAt = performance.now();
      awaited!.id = document.id;
      if (received.has(document.id)) awaited!.resolve();
      await reached;
      single.push(received.get(document.id)! - committedAt);
    }

    log(`  ${saves} saves by ${concurrency} concurrent savers (${loadLine()})`);
    const committed = new Map<string, number>();
    const started = performance.now();
    await runPool(saves, concurrency, async (i) => {
      const document = await create(`Burst ${i}`);
      committed.set(document.id, performance.now());
    });
    const savedIn = performance.now() - started;
    const until = Date.now() + stallMs;
    while ([...committed.keys()].some((id) => !received.has(id))) {
      if (Date.now() > until) throw new Error(`burst: ${[...committed.keys()].filter((id) => !received.has(id)).length} save(s) never arrived`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const burst = [...committed].map(([id, at]) => received.get(id)! - at);
    const lastReceipt = Math.max(...[...committed.keys()].map((id) => received.get(id)!));

    const row = (label: string, values: number[]) => {
      const s = summarize(values);
      return [label, String(s.n), ms(s.median), ms(s.p95), ms(s.p99), ms(s.max)];
    };
    log('');
    log(table(['commit → local receipt through listen', 'n', 'p50', 'p95', 'p99', 'max'], [row('one save at a time', single), row(`${concurrency} concurrent savers`, burst)]));
    log(`  the concurrent saves took ${(savedIn / 1000).toFixed(2)} s; the last arrived ${((lastReceipt - started) / 1000).toFixed(2)} s after the first save`);
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => (child.exitCode === null ? child.on('exit', resolve) : resolve(undefined)));
    await bench.app.stop();
    await receiver.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

export const listen: Benchmark = {
  name: 'listen',
  description: 'p50/p95 from a save commit to its receipt by a local server through cms-webhooks listen',
  run,
};
