import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource, EntityManager } from 'typeorm';
import { Blueprint } from '../../src/cms/blueprint.entity';
import { Project } from '../../src/cms/project.entity';
import { User } from '../../src/auth/user.entity';
import type { Config } from '../../src/config/config';
import { generateSigningSecret } from '../../src/delivery/signing';
import type { ChangeContext } from '../../src/events/domain-event.subscriber';
import { ALL_TRIGGERS, HttpMethod, WebhookTrigger } from '../../src/webhooks/triggers';
import { StoredHeader, Webhook } from '../../src/webhooks/webhook.entity';

/** Delivery settings for tests: a long poll, so anything prompt is due to LISTEN or the retry timer. */
export function testConfig(overrides: Partial<Config['webhook']> = {}): Config['webhook'] {
  return {
    allowedCidrs: ['127.0.0.0/8'],
    timeoutMs: 10_000,
    retryScheduleMs: [50, 100],
    concurrency: 16,
    perWebhookConcurrency: 4,
    pollIntervalMs: 60_000,
    shutdownGraceMs: 1_000,
    leaseMarginMs: 30_000,
    autoDisableAfterMs: null,
    logRetentionMs: null,
    ...overrides,
  };
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. No fixed sleeps. */
export async function waitUntil(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

export interface ReceivedRequest {
  method: string;
  path: string;
  /** Lower-case names; repeated headers joined by Node's rules. */
  headers: Record<string, string>;
  /** As on the wire: [name, value, name, value, …]. */
  rawHeaders: string[];
  body: string;
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A real HTTP receiver on 127.0.0.1; `reply` decides each answer and may hold it (a Promise). */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private waiters = new Set<() => void>();
  private server: http.Server;
  url = '';

  constructor(public reply: (request: ReceivedRequest, index: number) => Reply | Promise<Reply> = () => ({ status: 204 })) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])),
          rawHeaders: req.rawHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        const index = this.requests.push(received) - 1;
        this.waiters.forEach((wake) => wake());
        const answer = await this.reply(received, index);
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 204, answer.headers ?? {});
        res.end(answer.body ?? '');
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Resolves with the requests once at least `count` have arrived. */
  async waitForCount(count: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`receiver got ${this.requests.length} request(s), expected ${count} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
    return this.requests.slice(0, count);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export async function startReceiver(reply?: Receiver['reply']): Promise<Receiver> {
  return new Receiver(reply).start();
}

/** Runs `work` in a transaction whose events name `actorId` as triggered_user_id. */
export async function asUser<T>(dataSource: DataSource, actorId: string | null, work: (m: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction(async (manager) => {
    (manager.queryRunner!.data as ChangeContext) = { actorId };
    return work(manager);
  });
}

export interface Fixture {
  project: Project;
  user: User;
  blueprint: Blueprint;
}

export async function createFixture(dataSource: DataSource): Promise<Fixture> {
  const tag = randomBytes(4).toString('hex');
  const user = await dataSource.getRepository(User).save({ email: `u-${tag}@example.com`, name: 'Tester' });
  const project = await dataSource.getRepository(Project).save({ name: `project ${tag}` });
  const blueprint = await dataSource.transaction((m) =>
    m.save(Blueprint, m.create(Blueprint, { projectId: project.id, name: 'Article', apiName: `article_${tag}`, fields: [] })),
  );
  return { project, user, blueprint };
}

export async function createWebhook(
  dataSource: DataSource,
  values: {
    projectId: string;
    url: string;
    triggers?: WebhookTrigger[];
    blueprintIds?: string[] | null;
    enabled?: boolean;
    headers?: StoredHeader[];
    method?: HttpMethod;
  },
): Promise<Webhook> {
  const repository = dataSource.getRepository(Webhook);
  return repository.save(
    repository.create({
      projectId: values.projectId,
      name: 'test hook',
      url: values.url,
      method: values.method ?? HttpMethod.POST,
      triggers: values.triggers ?? [...ALL_TRIGGERS],
      blueprintIds: values.blueprintIds ?? null,
      enabled: values.enabled ?? true,
      headers: values.headers ?? [],
      signingSecret: generateSigningSecret(),
    }),
  );
}

export function captureLog(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}
