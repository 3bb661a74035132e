import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { Blueprint } from '../cms/blueprint.entity';
import { notFound } from '../common/app-error';

export interface CallStats {
  succeeded: number;
  failed: number;
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
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
