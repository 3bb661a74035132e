import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { Blueprint } from '../cms/blueprint.entity';
import type { ProjectRole } from '../cms/roles';
import { notFound } from '../common/app-error';

export interface CallStats {
  succeeded: number;
  failed: number;
}

export interface LastCall {
  id: string;
  createdAt: Date;
  success: boolean;
  responseStatusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * One query per relation for all the rows that ask in the same tick, instead of one per row:
 * a page of 100 documents with their blueprints is a fixed number of statements, not 101.
 * Made per request, so nothing cached outlives one caller's request. A subscription's context
 * lives as long as the subscription, so there the loaders batch but do not cache.
 */
export function createLoaders(dataSource: DataSource, options: { cache: boolean } = { cache: true }) {
  return {
    /** The caller already passed the document's project check, so its blueprint is readable too. */
    blueprint: new DataLoader<string, Blueprint>(
      async (ids) => {
        const rows = await dataSource.getRepository(Blueprint).findBy({ id: In([...ids]) });
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.map((id) => byId.get(id) ?? notFound('Blueprint'));
      },
      { cache: options.cache },
    ),
    /** Call counts of the last 30 days, by webhook id. */
    callStats: new DataLoader<string, CallStats>(
      async (webhookIds) => {
        const rows: Array<{ webhook_id: string; succeeded: string; failed: string }> = await dataSource.query(
          `SELECT webhook_id, count(*) FILTER (WHERE success) AS succeeded, count(*) FILTER (WHERE NOT success) AS failed
             FROM webhook_call WHERE webhook_id = ANY($1::uuid[]) AND created_at > now() - interval '30 days' GROUP BY webhook_id`,
          [[...webhookIds]],
        );
        const byId = new Map(rows.map((r) => [r.webhook_id, { succeeded: Number(r.succeeded), failed: Number(r.failed) }]));
        return webhookIds.map((id) => byId.get(id) ?? { succeeded: 0, failed: 0 });
      },
      { cache: options.cache },
    ),
    /** The newest call of each webhook: one backward index step per webhook (webhook_call_webhook_page_idx). */
    lastCall: new DataLoader<string, LastCall | null>(
      async (webhookIds) => {
        const rows: Array<{ webhook_id: string; id: string; created_at: Date; success: boolean; response_status_code: number | null; error: string | null; duration_ms: number }> =
          await dataSource.query(
            `SELECT w.id AS webhook_id, c.* FROM unnest($1::uuid[]) AS w(id)
               CROSS JOIN LATERAL (SELECT id, created_at, success, response_status_code, error, duration_ms FROM webhook_call
                                    WHERE webhook_id = w.id ORDER BY created_at DESC, id DESC LIMIT 1) c`,
            [[...webhookIds]],
          );
        const byId = new Map(rows.map((r) => [r.webhook_id, { id: r.id, createdAt: r.created_at, success: r.success, responseStatusCode: r.response_status_code, error: r.error, durationMs: r.duration_ms }]));
        return webhookIds.map((id) => byId.get(id) ?? null);
      },
      { cache: options.cache },
    ),
    /** Roles by `${userId}:${projectId}`; null where the user is not a member. */
    memberRole: new DataLoader<string, ProjectRole | null>(
      async (keys) => {
        const pairs = keys.map((key) => key.split(':'));
        const rows: Array<{ user_id: string; project_id: string; role: ProjectRole }> = await dataSource.query(
          `SELECT m.user_id, m.project_id, m.role FROM project_member m
             JOIN unnest($1::uuid[], $2::uuid[]) AS k(user_id, project_id) USING (user_id, project_id)`,
          [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
        );
        const byKey = new Map(rows.map((r) => [`${r.user_id}:${r.project_id}`, r.role]));
        return keys.map((key) => byKey.get(key) ?? null);
      },
      { cache: options.cache },
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
