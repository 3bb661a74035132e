import type { Client } from 'graphql-ws';
import { Webhook as Verifier } from 'standardwebhooks';
import { ok, type TestApi, wsClient } from '../support/api';
import type { ReceivedRequest } from '../support/receiver';
import { waitUntil } from '../support/wait';

/** What the health tests send: the notification-endpoint operations and the health subscription. */
export const HEALTH_CHANGED = `subscription Health($projectId: ID!) {
  webhookHealthChanged(projectId: $projectId) { id webhookId webhookName type previousState state reason consecutiveFailures failureRate willDisableAt at }
}`;

export const CREATE_ENDPOINT = `mutation CreateEndpoint($projectId: ID!, $input: NotificationEndpointInput!) {
  createNotificationEndpoint(projectId: $projectId, input: $input) { id name url types enabled signingSecret headers { name value secret } }
}`;

export const WEBHOOK_HEALTH = `query Health($id: ID!) { webhook(id: $id) { id health { state reason consecutiveFailures failureRate failingSince willDisableAt changedAt } } }`;

export interface HealthChange {
  id: string;
  webhookId: string;
  webhookName: string;
  type: string | null;
  previousState: string;
  state: string;
  reason: string | null;
  consecutiveFailures: number;
  failureRate: number | null;
  willDisableAt: string | null;
  at: string;
}

/**
 * A running webhookHealthChanged subscription whose results collect in `changes` (and errors
 * in `errors`), so a test waits on a condition rather than on the next message.
 */
export interface Watch {
  changes: HealthChange[];
  errors: Array<{ message: string; extensions?: { code?: string } }>;
  ended: boolean;
  client: Client;
}

export function watchHealth(api: TestApi, token: string, projectId: string): Watch {
  const client = wsClient(api, token);
  const watch: Watch = { changes: [], errors: [], ended: false, client };
  void (async () => {
    try {
      for await (const result of client.iterate<{ webhookHealthChanged: HealthChange }>({ query: HEALTH_CHANGED, variables: { projectId } })) {
        if (result.errors) watch.errors.push(...(result.errors as Watch['errors']));
        if (result.data) watch.changes.push(result.data.webhookHealthChanged);
      }
    } catch (error) {
      watch.errors.push({ message: String((error as Error).message ?? error) });
    } finally {
      watch.ended = true;
    }
  })();
  return watch;
}

/** Resolves once the subscription is registered on the server (the feed holds a stream for it). */
export async function subscribed(api: TestApi, projectId: string): Promise<void> {
  await waitUntil('the health subscription to start', () => api.app.services.healthFeed.subscriberCount(projectId) > 0, 20_000);
}

export async function createEndpoint(api: TestApi, projectId: string, url: string, extra: Record<string, unknown> = {}) {
  return ok(await api.gql(api.adminToken, CREATE_ENDPOINT, { projectId, input: { url, ...extra } }), 'createNotificationEndpoint').createNotificationEndpoint as {
    id: string;
    signingSecret: string;
    types: string[];
  };
}

/** The envelope of a notification request, once its signature verifies with the endpoint's secret. */
export function verifiedEnvelope(request: ReceivedRequest, secret: string): { type: string; version: number; event_id: string; created_at: string; test?: boolean; data: Record<string, unknown> } {
  new Verifier(secret).verify(request.body, request.headers);
  return JSON.parse(request.body);
}

export async function testSend(api: TestApi, webhookId: string): Promise<boolean> {
  const result = ok(await api.op(api.adminToken, 'TestWebhook', { id: webhookId }), 'testWebhook');
  return result.testWebhook.success as boolean;
}
