import type { Logger } from './logger';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ReadinessSource, readyzResponse } from './health';

/**
 * The metrics listener: its own port (METRICS_PORT) and address (METRICS_HOST, loopback by
 * default), apart from the API, so a scraper needs no route through the public load balancer
 * and the API's port never exposes internals. It answers /metrics, and /livez and /readyz as
 * the API port does, which gives a ROLE=worker process (no API port) its probes.
 */

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: {
  host: string;
  port: number;
  render(): Promise<{ contentType: string; text: string }>;
  readiness: ReadinessSource;
  log: Logger;
}): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    switch (path) {
      case '/metrics':
        options.render().then(
          ({ contentType, text }) => {
            res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
            res.end(text);
          },
          (error: Error) => {
            options.log.warn({ err: error }, 'metrics: scrape failed');
            if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
            res.end('metrics unavailable\n');
          },
        );
        return;
      case '/livez':
        return json(200, { status: 'alive' });
      case '/readyz':
        void readyzResponse(options.readiness).then(({ status, body }) => json(status, body));
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics, /livez, /readyz\n');
    }
  });
  // A scraper's keep-alive connection must not hold shutdown up.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  options.log.info(`metrics on http://${shown}:${port}/metrics (probes: /livez, /readyz)`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
