import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The built command (`npm test` builds first), run as a developer runs it. */
export const CLI = path.join(__dirname, '..', '..', 'sdk', 'dist', 'cli', 'main.js');

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout's lines parsed as JSON (listen --json). */
  json<T = Record<string, unknown>>(): T[];
  /** Resolves once `pattern` appears on stderr (notices) or stdout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves once stdout holds `count` lines (one per request). */
  waitForLines(count: number, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  /** SIGINT, as Ctrl-C; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** A home of its own, so the local secret is made fresh and kept apart from the machine's. */
export function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cms-cli-home-'));
}

export function cliEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: home, ...extra };
}

/** `script` defaults to the repository's build; a test of the installed package passes its bin. */
export function spawnCli(args: string[], env: Record<string, string>, script = CLI): CliProcess {
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  child.stdout!.on('data', (chunk: Buffer) => ((out += chunk.toString()), wake()));
  child.stderr!.on('data', (chunk: Buffer) => ((err += chunk.toString()), wake()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lineCount = () => out.split('\n').length - 1;
  const waitUntil = (holds: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!holds()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}\nstderr:\n${err}\nstdout:\n${out}`));
      }, timeoutMs);
      waiters.add(check);
      void exited.then((code) => {
        if (!waiters.has(check)) return;
        waiters.delete(check);
        clearTimeout(timer);
        reject(new Error(`cms-webhooks exited (${code}) before ${what}\nstderr:\n${err}\nstdout:\n${out}`));
      });
      check();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    json: <T>() =>
      out
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as T),
    exited,
    waitFor: (pattern, timeoutMs = 20_000) => waitUntil(() => pattern.test(err) || pattern.test(out), String(pattern), timeoutMs),
    waitForLines: (count, timeoutMs = 20_000) => waitUntil(() => lineCount() >= count, `${count} line(s) on stdout`, timeoutMs),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

/** Runs the command to its end. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  input?: string,
  script = CLI,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input ?? '');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

/** A loopback port nobody listens on right now, to start a server on later. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
