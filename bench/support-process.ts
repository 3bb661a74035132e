import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Processes under test: the built server (dist/src/main.js) as an operator runs it, and what
 * the benchmarks read about processes from /proc (CPU time, peak memory), so that a number can
 * be said to be bound by the worker, by PostgreSQL or by the benchmark's own process.
 */

export interface SpawnedServer {
  child: ChildProcess;
  pid: number;
  /** The HTTP port, or 0 for ROLE=worker (no HTTP server). */
  port: number;
  /** The last 64 KiB the process wrote, for error messages. */
  output(): string;
  /** Rejects if the process exits before stop() is called: a crashed worker must not look like a stall. */
  crashed: Promise<never>;
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 64 * 1024;

/**
 * `node <script>` with `env` (and PATH only): resolves once it serves GraphQL, or at once for
 * ROLE=worker, whose readiness shows only in what it delivers. Gives up after `timeoutMs`.
 */
export async function spawnNode(script: string, env: Record<string, string>, opts: { waitForGraphql: boolean; timeoutMs?: number }): Promise<SpawnedServer> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const crashed: Promise<never> = exited.then(() =>
    stopping
      ? new Promise<never>(() => undefined)
      : Promise.reject(new Error(`${path.basename(script)} (pid ${child.pid}) exited unexpectedly:\n${output.slice(-4000)}`)),
  );
  crashed.catch(() => undefined); // observed by whoever races it; never an unhandled rejection
  let port = 0;
  if (opts.waitForGraphql) {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const check = () => {
        const match = /GraphQL on http:\/\/localhost:(\d+)\/graphql/.exec(output);
        if (match) {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          resolve(Number(match[1]));
        }
      };
      child.stdout!.on('data', check);
      void exited.then(() => reject(new Error(`the server exited while starting:\n${output}`)));
    });
  }
  return {
    child,
    pid: child.pid!,
    port,
    output: () => output,
    crashed,
    stop: async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // A graceful stop waits for attempts in flight (SHUTDOWN_GRACE_MS, 15 s by default): past that, kill.
      const limit = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(limit);
    },
  };
}

/** dist/src/main.js as an operator runs it; resolves once it serves (ROLE=worker: once spawned). */
export function spawnBuiltServer(env: Record<string, string>, timeoutMs = 60_000): Promise<SpawnedServer> {
  const main = path.join(__dirname, '..', 'src', 'main.js');
  return spawnNode(main, env, { waitForGraphql: env.ROLE !== 'worker', timeoutMs });
}

/** VmRSS of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** VmHWM: the process's peak resident set so far, in bytes. */
export function peakRssOf(pid: number): number {
  return statusField(pid, 'VmHWM');
}

function statusField(pid: number, field: string): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]) * 1024;
}

let clockTicks: number | undefined;
/** USER_HZ: the unit of the times in /proc/<pid>/stat (100 nearly everywhere). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces), or null once the process is gone. */
function statFields(pid: number): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used; with `reaped`, plus those of children it has waited for. */
export function cpuSeconds(pid: number, reaped = false): number {
  const f = statFields(pid);
  if (!f) return NaN;
  // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  const ticks = Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / ticksPerSecond();
}

/**
 * CPU seconds of a PostgreSQL server: the postmaster, its live children (backends, walwriter,
 * autovacuum…), and the children it has reaped (backends of closed connections). Other
 * PostgreSQL servers on the machine (other people's tests) are not counted.
 */
export function postgresCpuSeconds(postmasterPid: number): number {
  let total = cpuSeconds(postmasterPid, true);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === postmasterPid) total += cpuSeconds(Number(entry));
  }
  return total;
}

/**
 * CPU seconds of the whole machine (every process, anyone's), from /proc/stat: busy, total, and
 * interrupt time (irq + softirq), which is mostly loopback networking charged to no process.
 */
function machineSeconds(): { busy: number; total: number; irq: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  // user nice system idle iowait irq softirq steal
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const hz = ticksPerSecond();
  return { busy: (total - idle) / hz, total: total / hz, irq: (v[5] + v[6]) / hz };
}

export type CpuSources = Record<string, () => number>;

export interface CpuReport {
  seconds: number;
  /** % of one core per source (200% = both cores of a 2-core machine). */
  percent: Record<string, number>;
  /** The whole machine's busy share, 0–100% of all its cores, anyone's work included. */
  machine: number;
  /** Interrupt time (mostly loopback networking), % of one core. */
  irq: number;
}

/** Samples `sources` now; `stop()` returns each one's CPU use since, as % of one core. */
export function cpuMeter(sources: CpuSources): { stop(): CpuReport } {
  const started = performance.now();
  const first = Object.fromEntries(Object.entries(sources).map(([name, read]) => [name, read()]));
  const machine = machineSeconds();
  return {
    stop: () => {
      const seconds = (performance.now() - started) / 1000;
      const percent = Object.fromEntries(Object.entries(sources).map(([name, read]) => [name, ((read() - first[name]) / seconds) * 100]));
      const now = machineSeconds();
      const total = Math.max(now.total - machine.total, 1e-9);
      return { seconds, percent, machine: ((now.busy - machine.busy) / total) * 100, irq: ((now.irq - machine.irq) / seconds) * 100 };
    },
  };
}

/** The usual sources: the processes under test, PostgreSQL (when its pid is known) and this process (the load and the receivers). */
export function cpuSources(processes: Record<string, number>, postmasterPid: number | null): CpuSources {
  const sources: CpuSources = {};
  for (const [name, pid] of Object.entries(processes)) sources[name] = () => cpuSeconds(pid);
  if (postmasterPid !== null) sources.postgres = () => postgresCpuSeconds(postmasterPid);
  sources.bench = () => cpuSeconds(process.pid);
  return sources;
}

/**
 * One line saying what the CPU shows: a process near 100% of a core is bound by its one event
 * loop; a machine near all its cores busy is saturated, and "others" is what processes not
 * under test (other people's work on a shared machine) took meanwhile.
 */
export function saturation(report: CpuReport): string {
  const cores = os.cpus().length;
  const ours = Object.values(report.percent).filter(Number.isFinite).reduce((a, b) => a + b, 0);
  const others = Math.max(0, (report.machine / 100) * cores * 100 - ours - report.irq);
  const parts = [
    ...Object.entries(report.percent).map(([name, p]) => `${name} ${Number.isFinite(p) ? p.toFixed(0) : '?'}`),
    `interrupts ${report.irq.toFixed(0)}`,
    `others ${others.toFixed(0)}`,
  ];
  const busiest = [...Object.entries(report.percent), ['others', others] as [string, number]].filter(([, p]) => Number.isFinite(p)).sort((a, b) => b[1] - a[1]);
  const bound = busiest.filter(([name, p]) => name !== 'postgres' && name !== 'others' && p >= 85).map(([name]) => name);
  const verdicts: string[] = [];
  if (report.machine >= 85) verdicts.push(`the ${cores} cores are saturated (largest share: ${busiest[0]?.[0]})`);
  if (bound.length > 0) verdicts.push(`${bound.join(', ')} near one full core (one event loop)`);
  if (verdicts.length === 0) verdicts.push('no CPU bound: waiting on round trips, locks or timers');
  return `CPU, % of one core: ${parts.join(', ')}; machine ${report.machine.toFixed(0)}% busy → ${verdicts.join('; ')}`;
}
