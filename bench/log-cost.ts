import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Benchmark, loadLine, option, rate, ratio, sized, table } from './support';
import { type Drain, drain, prepareBacklog } from './support-cms';
import { Receipts, startReceiver } from './support-http';

/**
 * What operators pay for seeing: one backlog drained by one ROLE=worker process three times,
 * from copies of the same database. `LOG_LEVEL=warn` (no line per successful attempt) is the
 * baseline; `LOG_LEVEL=info` writes a JSON line per attempt to stdout, which this process
 * reads through a pipe, as a log shipper would; the third adds tracing, its spans sent in
 * batches over OTLP/HTTP to a collector on loopback that answers 200 and keeps nothing.
 */

async function startCollector(): Promise<{ url: string; posts: () => number; close(): Promise<void> }> {
  let posts = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts: () => posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const logCost: Benchmark = {
  name: 'log-cost',
  description: 'deliveries/s of one backlog drained with LOG_LEVEL=warn, with a JSON line per attempt (info), and with tracing too',
  async run(server, log) {
    const webhooks = option('log-cost-webhooks', 4);
    const saves = sized('log-cost-saves', 5_000, 100);
    const stallMs = option('stall-ms', 60_000);
    const receipts = new Receipts();
    const receiver = await startReceiver(receipts.record);
    const collector = await startCollector();
    try {
      log(`  backlog: ${saves} saves × ${webhooks} webhooks through ROLE=api (${loadLine()})`);
      const template = await prepareBacklog(server, 'logcost', Array.from({ length: webhooks }, (_, i) => `${receiver.base}/hook/${i}`), saves);
      const configurations: Array<[string, Record<string, string>]> = [
        ['LOG_LEVEL=warn', { LOG_LEVEL: 'warn' }],
        ['LOG_LEVEL=info (a line per attempt)', { LOG_LEVEL: 'info' }],
        ['info + tracing (OTLP to loopback)', { LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }],
      ];
      const runs: Array<[string, Drain]> = [];
      for (const [name, env] of configurations) {
        log(`  ${name} (${loadLine()})`);
        const copy = await server.cloneDatabase(template.databaseUrl, `logcost_${runs.length}`);
        runs.push([name, await drain(server, { databaseUrl: copy, token: template.token }, receipts, { workers: 1, expected: saves * webhooks, stallMs, env })]);
      }
      const base = runs[0][1];
      log('');
      log(table(['configuration', 'deliveries/s', '÷ warn', 'CPU % worker', 'postgres', 'peak RSS'], runs.map(([name, d]) => [
        name, rate(d.perSec), ratio(d.perSec / base.perSec), (d.cpu.percent['worker 1'] ?? NaN).toFixed(0), (d.cpu.percent.postgres ?? NaN).toFixed(0), `${(d.peakRss[0] / 1024 / 1024).toFixed(0)} MB`,
      ])));
      log(`  (${saves * webhooks} deliveries per run; OTLP posts received: ${collector.posts()})`);
    } finally {
      await receiver.close();
      await collector.close();
    }
  },
};
