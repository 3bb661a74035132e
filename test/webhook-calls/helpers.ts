import crypto from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { WebhookCallKind } from '../../src/delivery/delivery.entity';
import { WebhookCall } from '../../src/webhook-calls/webhook-call.entity';
import { WebhookTrigger } from '../../src/webhooks/triggers';
import { codeOf, TestApi } from '../support/api';

/** A complete log row as the delivery worker would write it; `overrides` pick what a test varies. */
export function callRow(projectId: string, webhookId: string, overrides: Partial<WebhookCall> = {}): Partial<WebhookCall> {
  return {
    id: crypto.randomUUID(),
    deliveryId: null,
    projectId,
    webhookId,
    eventId: crypto.randomUUID(),
    trigger: WebhookTrigger.DOCUMENT_CREATE,
    kind: WebhookCallKind.EVENT,
    attempt: 1,
    success: true,
    error: null,
    durationMs: 12,
    nextRetryAt: null,
    requestMethod: 'POST',
    requestUrl: 'https://receiver.example.test/hook',
    requestHeaders: [
      { name: 'content-type', value: 'application/json' },
      { name: 'x-api-key', value: '••••3gat' },
    ],
    requestBody: '{"event_id":"x"}',
    responseStatusCode: 200,
    responseHeaders: [{ name: 'content-type', value: 'text/plain' }],
    responseBody: 'ok',
    ...overrides,
  };
}

/** Inserts through TypeORM (the NOTIFY trigger fires on commit, as for the worker's rows). */
export async function insertCalls(target: DataSource | EntityManager, rows: Array<Partial<WebhookCall>>): Promise<void> {
  const manager = target instanceof DataSource ? target.manager : target;
  for (let i = 0; i < rows.length; i += 100) await manager.insert(WebhookCall, rows.slice(i, i + 100));
}

export async function createProject(api: TestApi, name: string): Promise<string> {
  const result = await api.op(api.adminToken, 'CreateProject', { input: { name } });
  if (codeOf(result) !== 'OK') throw new Error(`CreateProject failed: ${JSON.stringify(result.errors)}`);
  return result.data.createProject.id;
}

export async function createWebhook(api: TestApi, projectId: string, name: string): Promise<string> {
  const result = await api.op(api.adminToken, 'CreateWebhook', {
    projectId,
    input: { name, url: `http://127.0.0.1:9/${name}`, triggers: ['DOCUMENT_CREATE'] },
  });
  if (codeOf(result) !== 'OK') throw new Error(`CreateWebhook failed: ${JSON.stringify(result.errors)}`);
  return result.data.createWebhook.id;
}

/** Polls a condition (not a fixed sleep) until it holds or the deadline passes. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `promise`, or a rejection naming `what` once `timeoutMs` has passed. */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
