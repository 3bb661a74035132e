import 'reflect-metadata';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startApp, type RunningApp } from '../src/app';
import type { Actor } from '../src/auth/actor';
import { type Config, loadConfig } from '../src/config/config';
import { withDatabase } from '../src/db/data-source';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { isValidCidr } from '../src/delivery/ssrf';
import { createLogger } from '../src/observability/logger';

/**
 * Shared setup for the benchmarks: one PostgreSQL per run (the machine's own via
 * DATABASE_URL, or a throw-away embedded cluster), a fresh database per measured
 * configuration, the app started in-process exactly as main.ts would start it, a loopback
 * receiver, and the statistics. Nothing here talks to anything but 127.0.0.1 and that database.
 */

/**
 * `--quick` (or BENCH_QUICK=1): every benchmark at a reduced size, so that all of them run in
 * under 2 minutes on 2 cores. The numbers are noisier; the full run is the one to quote.
 */
export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

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

/** An option whose default depends on the mode: the size in a full run, `quick` under --quick. */
export function sized(name: string, full: number, quick: number): number {
  return option(name, QUICK ? quick : full);
}

/**
 * Runs `work` once per run (with the first caller's arguments) and hands every caller the same
 * promise: the ceilings and results that other benchmarks compare with.
 */
export function once<A extends unknown[], T>(work: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  let result: Promise<T> | undefined;
  return (...args: A) => (result ??= work(...args));
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
  /**
   * A copy of the database at `url` (PostgreSQL's CREATE DATABASE … TEMPLATE, a file copy):
   * one prepared backlog serves several measurements. Nobody may be connected to `url`.
   */
  cloneDatabase(url: string, prefix: string): Promise<string>;
  /** The postmaster's process id when this machine runs the server (for CPU accounting), else null. */
  postmasterPid(): Promise<number | null>;
  close(): Promise<void>;
}

/** Runs `sql` on the server-level database. */
export async function onServer(server: string, sql: string): Promise<Array<Record<string, string>>> {
  const client = new Client({ connectionString: server });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function readPostmasterPid(pgData: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(pgData, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isSafeInteger(pid) && fs.existsSync(`/proc/${pid}`) ? pid : null;
  } catch {
    return null;
  }
}

export async function startDatabaseServer(log: (line: string) => void): Promise<DatabaseServer> {
  const created: string[] = [];
  const newName = (prefix: string) => {
    const name = `bench_${prefix}_${crypto.randomBytes(4).toString('hex')}`;
    created.push(name);
    return name;
  };
  const createDatabase = async (prefix: string) => withDatabase(server, newName(prefix));
  const cloneDatabase = async (url: string, prefix: string) => {
    const name = newName(prefix);
    await onServer(server, `CREATE DATABASE "${name}" TEMPLATE "${new URL(url).pathname.slice(1)}"`);
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
      cloneDatabase,
      // Readable only when the server runs on this machine and we may read its data directory.
      postmasterPid: async () => {
        const [row] = await onServer(server, 'SHOW data_directory').catch(() => []);
        return row ? readPostmasterPid(row.data_directory) : null;
      },
      // Someone else's server: leave nothing behind.
      close: async () => {
        for (const name of created) await onServer(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
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
    cloneDatabase,
    postmasterPid: async () => readPostmasterPid(path.join(dataDir, 'pg')),
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
  // Warnings and errors only (worker failures and the like), for the report.
  const log = createLogger({ level: 'warn', format: 'json' }, { destination: { write: (line: string) => void logged.push((JSON.parse(line) as { msg: string }).msg) } });
  const app = await startApp(config, log);
  const actor = await app.services.identity.authenticate(token);
  if (!actor) throw new Error('the bootstrap admin token did not authenticate');
  const graphqlUrl = app.http ? `http://127.0.0.1:${app.http.port}/graphql` : '';
  return { app, config, token, actor, graphqlUrl, logged };
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
