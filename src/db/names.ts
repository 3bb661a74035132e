/**
 * Names the database and every process must agree on, written once. The triggers in
 * `migrations/` raise these channels; migrations keep their own literals because a
 * migration is history and must not change when this file does.
 */

/** LISTEN/NOTIFY channels. A NOTIFY is delivered only when its transaction commits. */
export const CHANNELS = {
  /** An outbox row was written (statement-level, empty payload): time to fan out. */
  domainEvents: 'cms_domain_event',
  /** Deliveries were queued or put back (empty payload): time to claim. */
  deliveries: 'cms_delivery',
  /** Log rows were written: `project:webhook:id` entries separated by commas. */
  webhookCalls: 'cms_webhook_call',
  /** A webhook's health state changed: `project:webhook:healthEventId` (see src/health/health-feed.ts). */
  webhookHealth: 'cms_webhook_health',
  /** A token, user or membership changed (see src/auth/access-watch.ts). */
  access: 'cms_access',
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

/** Keys of session-level advisory locks: fixed numbers unique among the product's locks. */
export const ADVISORY_LOCKS = {
  /** Held while one process runs the migrations. */
  migrations: 4242000,
  /** Held (for a transaction) while a process creates the first super-admin. */
  bootstrap: 4242001,
  /** Held (for a transaction) while a worker claims FIFO webhooks' heads, so no two claims pick at once. */
  fifoClaim: 0x636d7366, // "cmsf"
  /** Held by the one worker that runs retention. */
  retention: 0x636d7372, // "cmsr"
} as const;
