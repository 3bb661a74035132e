import crypto from 'node:crypto';
import { OPERATIONS } from '../sdk/operations';
import { type CpuReport, cpuMeter, cpuSources, peakRssOf, spawnBuiltServer, type SpawnedServer } from './support-process';
import { type GraphqlClient, graphqlClient, type Receipts } from './support-http';
import { type DatabaseServer, waitFor } from './support';

/**
 * The server as a black box: started as a child process (dist/src/main.js, default settings
 * but for what a loopback benchmark needs), driven only through GraphQL, and judged only by
 * what reaches the receivers. Nothing here reads or writes the server's tables, so the same
 * benchmarks measure any rewrite of the delivery core.
 */

/** A few hundred bytes of rich text: what a small save carries. */
export const BODY_FIELD = '<p>' + 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(3) + '</p>';

export interface Cms {
  server: SpawnedServer;
  client: GraphqlClient;
  databaseUrl: string;
  token: string;
  stop(): Promise<void>;
}

/** What every process under test gets: loopback receivers allowed, one bootstrap admin (the same token on every process of a database). */
export function serverEnv(databaseUrl: string, token: string, role: 'all' | 'api' | 'worker', extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: databaseUrl, PORT: '0', ROLE: role, BOOTSTRAP_ADMIN_TOKEN: token, WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8', ...extra };
}

export const newToken = (): string => `bench-admin-${crypto.randomBytes(16).toString('hex')}`;

/** The built server with ROLE=all or api, and a keep-alive GraphQL client for its admin. */
export async function startCms(databaseUrl: string, role: 'all' | 'api', opts: { token?: string; env?: Record<string, string> } = {}): Promise<Cms> {
  const token = opts.token ?? newToken();
  const server = await spawnBuiltServer(serverEnv(databaseUrl, token, role, opts.env));
  const client = graphqlClient(`http://127.0.0.1:${server.port}/graphql`, token);
  return {
    server,
    client,
    databaseUrl,
    token,
    stop: async () => {
      client.close();
      await server.stop();
    },
  };
}

export interface Fixture {
  projectId: string;
  blueprintId: string;
  webhookIds: string[];
}

/** A project, a blueprint, and one DOCUMENT_CREATE webhook per URL, through the contract's mutations. */
export async function setupProject(client: GraphqlClient, name: string, webhookUrls: string[]): Promise<Fixture> {
  const { createProject } = await client.request(OPERATIONS.CreateProject, { input: { name } });
  const { createBlueprint } = await client.request(OPERATIONS.CreateBlueprint, {
    projectId: createProject.id,
    input: { name: 'Post', fields: [{ name: 'body', type: 'richtext' }] },
  });
  const webhookIds: string[] = [];
  for (const [i, url] of webhookUrls.entries()) {
    const { createWebhook } = await client.request(OPERATIONS.CreateWebhook, {
      projectId: createProject.id,
      input: { name: `Bench receiver ${i}`, url, triggers: ['DOCUMENT_CREATE'] },
    });
    webhookIds.push(createWebhook.id);
  }
  return { projectId: createProject.id, blueprintId: createBlueprint.id, webhookIds };
}

/** One save as a client makes it (the contract's CreateDocument); resolves with the document id when the answer is in. */
export async function saveDocument(client: GraphqlClient, fixture: Fixture, title: string): Promise<string> {
  const { createDocument } = await client.request(OPERATIONS.CreateDocument, {
    projectId: fixture.projectId,
    input: { blueprintId: fixture.blueprintId, title, fields: { body: BODY_FIELD } },
  });
  return createDocument.id as string;
}

/**
 * `count` saves as fast as the server takes them: 25 aliased createDocument per request (each
 * its own transaction, as separate requests would be), 4 requests in flight. For backlogs,
 * where the saves are set-up, not the measurement.
 */
export async function createDocuments(client: GraphqlClient, fixture: Fixture, count: number, label = 'Backlog'): Promise<string[]> {
  const perRequest = 25;
  const mutation = (n: number) =>
    `mutation($p: ID!, $input: DocumentInput!) { ${Array.from({ length: n }, (_, i) => `d${i}: createDocument(projectId: $p, input: $input) { id }`).join(' ')} }`;
  const ids: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const n = Math.min(perRequest, count - next);
      next += n;
      const data = await client.request<Record<string, { id: string }>>(mutation(n), {
        p: fixture.projectId,
        input: { blueprintId: fixture.blueprintId, title: label, fields: { body: BODY_FIELD } },
      });
      for (const value of Object.values(data)) ids.push(value.id);
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  return ids;
}

export interface Backlog {
  databaseUrl: string;
  token: string;
  fixture: Fixture;
  documentIds: string[];
  createdPerSec: number;
}

/** `saves` documents created through a ROLE=api server (no worker: nothing is sent), which then stops. */
export async function prepareBacklog(server: DatabaseServer, prefix: string, webhookUrls: string[], saves: number): Promise<Backlog> {
  const cms = await startCms(await server.createDatabase(prefix), 'api');
  try {
    const fixture = await setupProject(cms.client, `Bench ${prefix}`, webhookUrls);
    const started = performance.now();
    const documentIds = await createDocuments(cms.client, fixture, saves);
    return { databaseUrl: cms.databaseUrl, token: cms.token, fixture, documentIds, createdPerSec: saves / ((performance.now() - started) / 1000) };
  } finally {
    await cms.stop();
  }
}

export interface Drain {
  workers: number;
  delivered: number;
  /** Deliveries ÷ time from the first receipt to the last: start-up excluded. */
  perSec: number;
  seconds: number;
  cpu: CpuReport;
  /** VmHWM of each worker process at the end, bytes. */
  peakRss: number[];
  duplicates: number;
}

/**
 * Starts `workers` ROLE=worker processes on a database with a backlog and waits until
 * `expected` distinct (path, document) pairs have arrived, giving up after `stallMs` without
 * progress. CPU is metered from the first receipt to the last.
 */
export async function drain(server: DatabaseServer, backlog: Pick<Backlog, 'databaseUrl' | 'token'>, receipts: Receipts, opts: { workers: number; expected: number; stallMs: number; env?: Record<string, string>; beforeStop?: () => Promise<void> }): Promise<Drain> {
  receipts.reset();
  const postmaster = await server.postmasterPid();
  const processes: SpawnedServer[] = [];
  let meter: ReturnType<typeof cpuMeter> | null = null;
  const startMeter = () => {
    meter = cpuMeter(cpuSources(Object.fromEntries(processes.map((p, i) => [`worker ${i + 1}`, p.pid])), postmaster));
  };
  try {
    // Spawning returns at once (a worker has no port to wait for), long before a worker has booted.
    for (let i = 0; i < opts.workers; i++) processes.push(await spawnBuiltServer(serverEnv(backlog.databaseUrl, backlog.token, 'worker', opts.env)));
    if (receipts.total > 0) startMeter();
    else receipts.onFirst = startMeter;
    const done = await Promise.race([
      waitFor(() => receipts.unique >= opts.expected, () => receipts.total, opts.stallMs, 10),
      ...processes.map((p) => p.crashed),
    ]);
    const cpu = meter ? (meter as ReturnType<typeof cpuMeter>).stop() : null;
    if (!done || !cpu) throw new Error(`drain with ${opts.workers} worker(s): ${receipts.unique} of ${opts.expected} arrived, then nothing for ${opts.stallMs} ms`);
    const peakRss = processes.map((p) => peakRssOf(p.pid));
    const seconds = (receipts.lastAt - receipts.firstAt) / 1000;
    return { workers: opts.workers, delivered: receipts.unique, perSec: (receipts.unique - 1) / seconds, seconds, cpu, peakRss, duplicates: receipts.duplicates };
  } finally {
    receipts.onFirst = null;
    await opts.beforeStop?.();
    await Promise.all(processes.map((p) => p.stop()));
  }
}
