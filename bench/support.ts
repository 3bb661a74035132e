import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startApp, type RunningApp } from '../src/app';
import type { Actor } from '../src/auth/actor';
import { type Config, loadConfig } from '../src/config/config';
import { withDatabase } from '../src/db/data-source';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { isValidCidr } from '../src/delivery/ssrf';

/**
 * Shared setup for the benchmarks: one PostgreSQL per run (the machine's own via
 * DATABASE_URL, or a throw-away embedded cluster), a fresh database per measured
 * configuration, the app started in-process exactly as main.ts would start it, a loopback
 * receiver, and the statistics. Nothing here talks to anything but 127.0.0.1 and that database.
 */

/** `--saves=500` on the command line, else `BENCH_SAVES=500`, else the fallback. */
export function option(name: string, fallback: number): number {
  const variable = `BENCH_${name.toUpperCase().replace(/-/g, '_')}`;
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = flag ? flag.slice(name.length + 3) : process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} / ${variable}: expected a positive integer, got ${raw}`);
  return value;
}

/** Other engineers run tests on the same 2 cores: every number is printed next to the load. */
export function loadLine(): string {
  let avg: string;
  try {
    avg = fs.readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
  } catch {
    avg = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  }
  return `load average ${avg} (1/5/15 min) on ${os.cpus().length} cores`;
}

export interface DatabaseServer {
  /** The server-level URL (database `postgres`). */
  url: string;
  embedded: boolean;
  /** A new, empty database; startApp migrates it. */
  createDatabase(prefix: string): Promise<string>;
  close(): Promise<void>;
}

export async function startDatabaseServer(log: (line: string) => void): Promise<DatabaseServer> {
  const created: string[] = [];
  const createDatabase = async (prefix: string) => {
    const name = `bench_${prefix}_${crypto.randomBytes(4).toString('hex')}`;
    created.push(name);
    return withDatabase(server, name);
  };
  let server: string;
  const given = process.env.DATABASE_URL?.trim();
  if (given) {
    server = withDatabase(given, 'postgres');
    log('PostgreSQL: DATABASE_URL (a fresh database per configuration, dropped at the end)');
    return {
      url: server,
      embedded: false,
      createDatabase,
      // Someone else's server: leave nothing behind.
      close: async () => {
        const client = new Client({ connectionString: server });
        await client.connect();
        try {
          for (const name of created) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } finally {
          await client.end();
        }
      },
    };
  }
  // 0755: as root, PostgreSQL runs as the `postgres` user, which must reach the data directory.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cms-bench-pg-'));
  fs.chmodSync(dataDir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  server = pg.url;
  log(`PostgreSQL: throw-away embedded cluster in ${dataDir} (fsync off; removed at the end)`);
  return {
    url: server,
    embedded: true,
    createDatabase,
    close: async () => {
      // The postgres child is unref'd, so awaiting its exit alone does not keep Node alive:
      // with nothing else left open, the process would end before the directory is removed.
      const keepAlive = setInterval(() => undefined, 1_000);
      try {
        await pg.stop();
      } finally {
        clearInterval(keepAlive);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface BenchApp {
  app: RunningApp;
  config: Config;
  token: string;
  actor: Actor;
  graphqlUrl: string;
  /** Lines the app logged (worker failures and the like), for the report. */
  logged: string[];
}

/** startApp as `npm start` runs it, on a random port, with the bootstrap admin as the actor. */
export async function startBenchApp(databaseUrl: string, env: Partial<NodeJS.ProcessEnv> = {}): Promise<BenchApp> {
  const token = `bench-admin-${crypto.randomBytes(16).toString('hex')}`;
  const config = loadConfig(
    {
      DATABASE_URL: databaseUrl,
      PORT: '0',
      ROLE: 'all',
      BOOTSTRAP_ADMIN_TOKEN: token,
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      ...env,
    },
    isValidCidr,
  );
  const logged: string[] = [];
  const app = await startApp(config, (line) => logged.push(line));
  const actor = await app.services.identity.authenticate(token);
  if (!actor) throw new Error('the bootstrap admin token did not authenticate');
  const graphqlUrl = app.http ? `http://127.0.0.1:${app.http.port}/graphql` : '';
  return { app, config, token, actor, graphqlUrl, logged };
}

export interface BenchReceiver {
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback receiver that answers 200 as soon as the body is in, and hands each body to
 * `onBody` with its arrival time. No test helper: it keeps no request list, so 10,000
 * requests cost no memory beyond what the caller keeps.
 */
export async function startReceiver(onBody: (body: string, receivedAt: number) => void): Promise<BenchReceiver> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = performance.now();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      onBody(Buffer.concat(chunks).toString('utf8'), receivedAt);
    });
  });
  // Longer than any pause in a burst, so the senders' keep-alive connections are not cut under them.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs task(0..count-1) with at most `concurrency` in flight; the first error stops the run. */
export async function runPool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

/** Calls `check` every `everyMs` until it returns true; gives up after `stallMs` without progress. */
export async function waitFor(check: () => Promise<boolean> | boolean, progress: () => number, stallMs: number, everyMs = 50): Promise<boolean> {
  let last = progress();
  let lastChange = Date.now();
  for (;;) {
    if (await check()) return true;
    const now = progress();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Summary {
  n: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, median: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

/** Runs `fn` `warmup + reps` times one after the other; returns the durations (ms) of the last `reps`. */
export async function timeRepeated(reps: number, fn: () => Promise<unknown>, warmup = 3): Promise<Summary> {
  const times: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const started = performance.now();
    await fn();
    if (i >= warmup) times.push(performance.now() - started);
  }
  return summarize(times);
}

export const ms = (value: number): string => (Number.isFinite(value) ? `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms` : 'n/a');
export const rate = (value: number): string => (Number.isFinite(value) ? `${Math.round(value).toLocaleString('en-US')}/s` : 'n/a');
export const ratio = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a');

/** A left-aligned text table, so the output can be pasted into the README as is. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => (cell ?? '').padEnd(widths[c])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** One benchmark: a name for `node dist/bench/run.js <name>`, and its body. */
export interface Benchmark {
  name: string;
  description: string;
  run(server: DatabaseServer, log: (line: string) => void): Promise<void>;
}

export interface SpawnedServer {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** dist/src/main.js as an operator runs it, with `env`; resolves once it serves. */
export async function spawnBuiltServer(env: Record<string, string>, timeoutMs = 60_000): Promise<SpawnedServer> {
  const main = path.join(__dirname, '..', 'src', 'main.js');
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL on http:\/\/localhost:(\d+)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`the server exited while starting:\n${output}`)));
  });
  return {
    child,
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
