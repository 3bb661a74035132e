/**
 * The words of a webhook's health, written once: stored in `webhook.health_state`, in the
 * trigger of migrations/1764610000000 (which keeps its own literals: a migration is history),
 * and in the notification envelope (as `type`).
 */

export enum WebhookHealthState {
  HEALTHY = 'HEALTHY',
  /** Failed calls passed a threshold (consecutive, or a failure rate); announced once per episode. */
  FAILING = 'FAILING',
  /** Every call has failed for long enough that auto-disable may strike within the warning lead time. */
  DISABLE_WARNING = 'DISABLE_WARNING',
  /** Disabled automatically; stays so until someone enables it again. */
  DISABLED = 'DISABLED',
}

/** What a webhook row is for: CMS events, or health notifications about the project's other webhooks. */
export enum WebhookPurpose {
  EVENTS = 'EVENTS',
  NOTIFICATIONS = 'NOTIFICATIONS',
}

/** The `type` of a notification envelope; the values are what receivers see. */
export enum WebhookHealthEventType {
  WEBHOOK_FAILING = 'webhook.failing',
  WEBHOOK_DISABLE_WARNING = 'webhook.disable_warning',
  WEBHOOK_DISABLED = 'webhook.disabled',
  WEBHOOK_RECOVERED = 'webhook.recovered',
}

export const ALL_HEALTH_EVENT_TYPES: readonly WebhookHealthEventType[] = Object.values(WebhookHealthEventType);

/**
 * The `kind` of a notification's delivery and log rows. Not a WebhookCallKind: those rows are
 * not CMS events and stay out of `webhookCalls` (see notification-call.service.ts).
 */
export const NOTIFICATION_KIND = 'NOTIFICATION';
