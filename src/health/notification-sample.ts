import { WebhookHealthEventType } from './health.constants';

/**
 * The body of a test notification: a `webhook.failing` envelope of version 1 like a real one,
 * about an example webhook, with `"test": true` so a receiver can tell it from a real failure
 * (and page no one). A receiver wired for `webhook.failing` is exercised end to end: signature,
 * parsing and routing.
 */
export const TEST_NOTIFICATION_TYPE = WebhookHealthEventType.WEBHOOK_FAILING;

/** Stands for "no webhook": a test notification is about none of the project's webhooks. */
export const EXAMPLE_WEBHOOK_ID = '00000000-0000-0000-0000-000000000000';

export function testNotificationBody(projectId: string, eventId: string, now: Date): string {
  const at = now.toISOString();
  return JSON.stringify({
    type: TEST_NOTIFICATION_TYPE,
    version: 1,
    event_id: eventId,
    created_at: at,
    test: true,
    data: {
      project_id: projectId,
      webhook_id: EXAMPLE_WEBHOOK_ID,
      name: 'Example webhook',
      url: 'https://example.com/hooks/cms',
      state: 'failing',
      previous_state: 'healthy',
      reason: '5 consecutive calls failed',
      consecutive_failures: 5,
      failure_rate: null,
      failing_since: at,
      will_disable_at: null,
      disabled_at: null,
    },
  });
}
