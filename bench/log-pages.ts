import { OPERATIONS } from '../sdk/operations';
import { encodeCursor } from '../src/common/pagination';
import { WebhookTrigger } from '../src/webhooks/triggers';
import {
  type BenchApp, type Benchmark, type DatabaseServer, loadLine, ms, option, rate, ratio,
  sized, startBenchApp, type Summary, table, timeRepeated,
} from './support';

/**
 * The call log's read path over a big log: the first page, a page deep in the log, filtered
 * pages and totalCount, through GraphQL (the contract's WebhookCalls operation, as the UI
 * sends it) and through the service directly (the same minus HTTP, GraphQL and JSON).
 *
 * Keyset pagination should make the deep page cost what the first page costs; the baseline
 * is the OFFSET query at the same depth, which reads and throws away every row above it.
 * Issue 11's targets, at 1,000,000 rows (the full run's size): `first: 50` p95 ≤ 10 ms and
 * `totalCount` p95 ≤ 10 ms through GraphQL.
 */

const PAGE = 100;
/** The page size of issue 11's target. */
const SMALL_PAGE = 50;
const TARGET_P95_MS = 10;
const WEBHOOKS = 4;
/** Rows logged in the same millisecond: the case where the id tie-breaker in the cursor matters. */
const SAME_MS = 8;
const SPREAD_MS = 30 * 24 * 3600 * 1000;
const SEED_CHUNK = 100_000;

type Filter = { webhookId?: string; success?: boolean } | null;

/**
 * One INSERT … SELECT: realistic rows (a ~300-byte body, six request headers with a masked
 * secret, three response headers, ~5% failures) spread over 30 days. The per-row NOTIFY
 * trigger is switched off inside the same transaction (nobody else ever sees it off): 100,000
 * live-log notifications would only measure the LISTEN connection, not the query. A million
 * rows take about a minute on 2 cores (the indexes are built after the load).
 */
export async function seed(bench: BenchApp, projectId: string, webhookIds: string[], rows: number): Promise<void> {
  const runner = bench.app.dataSource.createQueryRunner();
  await runner.connect();
  try {
    // A million rows, and the VACUUM after them, take longer than DATABASE_STATEMENT_TIMEOUT_MS
    // allows; RESET below restores the pool's setting before the connection goes back.
    await runner.query('SET statement_timeout = 0');
    await runner.startTransaction();
    // Without the live-log NOTIFY trigger, and without the foreign-key check where we may turn
    // it off (superuser; the rows name only webhooks of this project, so the check could not fail).
    await runner.query('SAVEPOINT triggers');
    try {
      await runner.query('ALTER TABLE webhook_call DISABLE TRIGGER ALL');
    } catch {
      await runner.query('ROLLBACK TO SAVEPOINT triggers');
      await runner.query('ALTER TABLE webhook_call DISABLE TRIGGER USER');
    }
    // Secondary indexes are dropped for the load and built again after it: one sort each instead
    // of a million random insertions. Their definitions come from the catalog, as migrated.
    const indexes: Array<{ name: string; def: string }> = await runner.query(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
        WHERE i.indrelid = 'webhook_call'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    );
    for (const { name } of indexes) await runner.query(`DROP INDEX ${name}`);
    await runner.query('SELECT setseed(0.42)'); // the same failures and durations on every run
    // 100,000 rows per statement (the same rows as one statement would write): each stays seconds long.
    for (let from = 1; from <= rows; from += SEED_CHUNK) await runner.query(
      `INSERT INTO webhook_call (id, delivery_id, webhook_id, project_id, event_id, trigger, kind, attempt, success, error,
                                 duration_ms, next_retry_at, created_at, request_method, request_url, request_headers,
                                 request_body, response_status_code, response_headers, response_body)
       SELECT gen_random_uuid(), gen_random_uuid(), s.webhook_id, s.project_id, s.event_id, s.trigger, 'EVENT',
              CASE WHEN s.failed THEN 1 + s.i % 3 ELSE 1 END, NOT s.failed,
              CASE WHEN s.failed THEN 'receiver answered 503' END,
              s.duration, CASE WHEN s.failed THEN s.at + interval '5 minutes' END, s.at,
              'POST', 'https://hooks.example.com/cms/' || s.webhook_id,
              jsonb_build_array(
                jsonb_build_object('name', 'X-Api-Key', 'value', '••••alue'),
                jsonb_build_object('name', 'user-agent', 'value', 'cms-webhooks/1 (+https://www.standardwebhooks.com)'),
                jsonb_build_object('name', 'content-type', 'value', 'application/json'),
                jsonb_build_object('name', 'webhook-id', 'value', s.event_id),
                jsonb_build_object('name', 'webhook-timestamp', 'value', extract(epoch FROM s.at)::bigint::text),
                jsonb_build_object('name', 'webhook-signature', 'value', 'v1,' || encode(sha256(s.event_id::text::bytea), 'base64'))),
              '{"event_id":"' || s.event_id || '","metadata":{"blueprint_id":"' || gen_random_uuid() || '","document_id":"' ||
                gen_random_uuid() || '","document_status_id":0,"created_at":"' ||
                to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"},"scope":{"project_id":"' || s.project_id ||
                '"},"webhook":{"trigger":"' || s.trigger || '","webhook_id":"' || s.webhook_id || '"}}',
              CASE WHEN s.failed THEN 503 ELSE 200 END,
              jsonb_build_array(
                jsonb_build_object('name', 'Content-Type', 'value', 'text/plain'),
                jsonb_build_object('name', 'Date', 'value', to_char(s.at AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS "GMT"')),
                jsonb_build_object('name', 'Content-Length', 'value', CASE WHEN s.failed THEN '19' ELSE '2' END)),
              CASE WHEN s.failed THEN 'Service Unavailable' ELSE 'ok' END
         FROM (SELECT g.i, $1::uuid AS project_id,
                      ($2::uuid[])[1 + g.i % cardinality($2::uuid[])] AS webhook_id,
                      (ARRAY['document_create','document_update','document_field_update','document_delete'])[1 + (g.i / 3) % 4] AS trigger,
                      gen_random_uuid() AS event_id,
                      random() < 0.05 AS failed,
                      5 + (random() * 400)::int AS duration,
                      date_trunc('milliseconds', now()) - (g.i / $4) * ($5::double precision * interval '1 millisecond') AS at
                 FROM generate_series($3::int, $6::int) AS g(i)) s`,
      [projectId, webhookIds, from, SAME_MS, Math.floor(SPREAD_MS / (rows / SAME_MS)), Math.min(rows, from + SEED_CHUNK - 1)],
    );
    for (const { def } of indexes) await runner.query(def);
    // The per-hour counters behind totalCount are kept by triggers, which were off for the load:
    // add what they would have added, as the migration that created them does.
    await runner.query(
      `INSERT INTO webhook_call_count AS c (webhook_id, project_id, hour, trigger, kind, success, n)
       SELECT webhook_id, project_id, date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), trigger, kind, success, count(*)
         FROM webhook_call WHERE project_id = $1 GROUP BY 1, 2, 3, 4, 5, 6
       ON CONFLICT (webhook_id, hour, trigger, kind, success) DO UPDATE SET n = c.n + excluded.n`,
      [projectId],
    );
    await runner.query('ALTER TABLE webhook_call ENABLE TRIGGER ALL');
    await runner.commitTransaction();
    // VACUUM as autovacuum would on an insert-only table, so counts can use index-only
    // scans as in production, and so autovacuum does not start in the middle of the timings.
    await runner.query('VACUUM (ANALYZE) webhook_call');
  } finally {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    await runner.query('RESET statement_timeout');
    await runner.release();
  }
}

async function run(server: DatabaseServer, log: (line: string) => void): Promise<void> {
  const rows = sized('log-rows', 1_000_000, 10_000);
  const depth = Math.min(option('depth', Math.round(rows * 0.9)), rows - PAGE);
  // Walking 9,000 pages through GraphQL would take minutes and measure nothing new: past
  // --walk-rows the deep cursor is made from the row at that depth, and checked against OFFSET.
  const walkRows = Math.min(depth, sized('walk-rows', 90_000, 9_000));
  const reps = sized('reps', 30, 10);
  log(`log-pages: ${rows} log rows, deep page after row ${depth} (walked through GraphQL to row ${walkRows}), ${reps} repetitions each (${loadLine()})`);

  // The API role only: there is no event to deliver, and a worker would only add noise.
  const bench = await startBenchApp(await server.createDatabase('log_pages'), { ROLE: 'api' });
  try {
    const { services } = bench.app;
    const project = await services.projects.create(bench.actor, 'Bench log');
    const webhookIds: string[] = [];
    for (let i = 0; i < WEBHOOKS; i++) {
      const webhook = await services.webhooks.create(bench.actor, project.id, {
        name: `Receiver ${i}`,
        url: `https://hooks.example.com/cms/${i}`,
        triggers: [WebhookTrigger.DOCUMENT_CREATE, WebhookTrigger.DOCUMENT_UPDATE],
      });
      webhookIds.push(webhook.id);
    }
    let started = performance.now();
    await seed(bench, project.id, webhookIds, rows);
    const [shape] = await bench.app.dataSource.query(
      `SELECT count(*) AS n, round(avg(length(request_body))) AS body, count(DISTINCT created_at) AS instants,
              pg_size_pretty(pg_total_relation_size('webhook_call')) AS size FROM webhook_call`,
    );
    log(`  seeded ${shape.n} rows in ${((performance.now() - started) / 1000).toFixed(1)} s: avg body ${shape.body} B, ` +
      `${shape.instants} distinct created_at values, table+indexes ${shape.size}`);

    const gql = async (operationName: 'WebhookCalls' | 'WebhookCallsCount', variables: Record<string, unknown>) => {
      const res = await fetch(bench.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bench.token}` },
        body: JSON.stringify({ query: OPERATIONS[operationName], variables, operationName }),
      });
      const body = (await res.json()) as { data?: any; errors?: unknown[] };
      if (body.errors) throw new Error(`${operationName}: ${JSON.stringify(body.errors)}`);
      return body.data.webhookCalls as { totalCount?: number; edges: Array<{ node: { id: string } }>; pageInfo: { endCursor: string | null; hasNextPage: boolean } };
    };
    const page = (filter: Filter, after: string | null, first = PAGE) => gql('WebhookCalls', { projectId: project.id, filter, first, after });
    const servicePage = (filter: Filter, after: string | null) => services.webhookCalls.list(bench.actor, project.id, filter, PAGE, after);

    // The walk to depth: the way a client reaches it (and a measurement of its own, pages/s).
    log(`  walking ${Math.ceil(walkRows / PAGE)} pages through GraphQL… (${loadLine()})`);
    const seen = new Set<string>();
    let cursor: string | null = null;
    started = performance.now();
    while (seen.size < walkRows) {
      const result = await page(null, cursor);
      result.edges.forEach((e) => seen.add(e.node.id));
      cursor = result.pageInfo.endCursor;
      if (!result.pageInfo.hasNextPage) break;
    }
    const walkSeconds = (performance.now() - started) / 1000;
    const walked = Math.ceil(walkRows / PAGE) * PAGE;
    if (seen.size !== walked) throw new Error(`the walk saw ${seen.size} distinct rows, expected ${walked}: a page skipped or repeated rows`);

    // The same pages, as OFFSET pays for them, must hold the very same rows.
    const offsetSql = `SELECT * FROM webhook_call WHERE project_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT ${PAGE + 1}`;
    const keysetSql = `SELECT * FROM webhook_call WHERE project_id = $1 AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT ${PAGE + 1}`;
    const db = bench.app.dataSource;
    let deepCursor = cursor!;
    if (walked !== depth) {
      const [row] = await db.query(`SELECT created_at, id FROM webhook_call WHERE project_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`, [project.id, depth - 1]);
      deepCursor = encodeCursor(row.created_at, row.id);
    }
    const [iso, lastId] = Buffer.from(deepCursor, 'base64url').toString('utf8').split('|');
    const viaOffset: Array<{ id: string }> = await db.query(offsetSql, [project.id, depth]);
    const viaKeyset = await page(null, deepCursor);
    if (viaKeyset.edges.map((e) => e.node.id).join() !== viaOffset.slice(0, PAGE).map((r) => r.id).join()) {
      throw new Error('the keyset page at depth differs from the OFFSET page at the same depth');
    }

    log(`  timing (${loadLine()})`);
    const results: Array<{ query: string; via: string; s: Summary }> = [];
    const time = async (query: string, via: string, fn: () => Promise<unknown>) => {
      const s = await timeRepeated(reps, fn);
      results.push({ query, via, s });
      return s;
    };
    const firstGql = await time('first page', 'GraphQL', () => page(null, null));
    const deepGql = await time(`page after row ${depth}`, 'GraphQL', () => page(null, deepCursor));
    const firstSmall = await time(`first page, first: ${SMALL_PAGE}`, 'GraphQL', () => page(null, null, SMALL_PAGE));
    const deepSmall = await time(`page after row ${depth}, first: ${SMALL_PAGE}`, 'GraphQL', () => page(null, deepCursor, SMALL_PAGE));
    const firstSvc = await time('first page', 'service', () => servicePage(null, null));
    const deepSvc = await time(`page after row ${depth}`, 'service', () => servicePage(null, deepCursor));
    const firstRaw = await time('first page (keyset SQL)', 'raw SQL', () => db.query(`SELECT * FROM webhook_call WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT ${PAGE + 1}`, [project.id]));
    const deepRaw = await time(`page after row ${depth} (keyset SQL)`, 'raw SQL', () => db.query(keysetSql, [project.id, iso, lastId]));
    const offset = await time(`OFFSET ${depth} LIMIT ${PAGE + 1} (baseline)`, 'raw SQL', () => db.query(offsetSql, [project.id, depth]));
    // A deep cursor from the unfiltered walk is a valid position for a filtered list too.
    const filters: Array<[string, Filter]> = [['webhookId', { webhookId: webhookIds[0] }], ['success=false', { success: false }]];
    for (const [name, filter] of filters) {
      await time(`first page, ${name}`, 'GraphQL', () => page(filter, null));
      await time(`page after row ${depth}, ${name}`, 'GraphQL', () => page(filter, deepCursor));
      await time(`first page, ${name}`, 'service', () => servicePage(filter, null));
      await time(`page after row ${depth}, ${name}`, 'service', () => servicePage(filter, deepCursor));
    }
    for (const [name, filter] of [['all', null], ...filters] as Array<[string, Filter]>) {
      await time(`totalCount, ${name}`, 'GraphQL', () => gql('WebhookCallsCount', { projectId: project.id, filter }));
      await time(`totalCount, ${name}`, 'service', () => services.webhookCalls.count(bench.actor, project.id, filter));
    }
    const countAll = results.find((r) => r.query === 'totalCount, all' && r.via === 'GraphQL')!.s;
    const counts = await Promise.all([null, ...filters.map(([, f]) => f)].map((f) => services.webhookCalls.count(bench.actor, project.id, f)));
    log(`  done (${loadLine()})`);

    log('');
    log(table(['query (first: 100)', 'via', 'median', 'p95', 'max'], results.map((r) => [r.query, r.via, ms(r.s.median), ms(r.s.p95), ms(r.s.max)])));
    log('');
    log(table(['measure', 'value'], [
      [`walk to row ${walked} through GraphQL`, `${rate(walked / PAGE / walkSeconds)} pages (${rate(walked / walkSeconds)} rows) in ${walkSeconds.toFixed(1)} s`],
      ['totalCount: all / webhookId / success=false', counts.join(' / ')],
    ]));
    log('');
    log(table(['ratio (medians, same run)', 'value'], [
      ['deep page ÷ first page, GraphQL', ratio(deepGql.median / firstGql.median)],
      ['deep page ÷ first page, service', ratio(deepSvc.median / firstSvc.median)],
      ['deep page ÷ first page, raw keyset SQL', ratio(deepRaw.median / firstRaw.median)],
      [`OFFSET ${depth} ÷ keyset at the same depth (raw SQL)`, ratio(offset.median / deepRaw.median)],
      [`OFFSET ${depth} (raw SQL) ÷ deep page through the service`, ratio(offset.median / deepSvc.median)],
    ]));
    log('');
    const verdict = (s: Summary) => `${ms(s.p95)} (${s.p95 <= TARGET_P95_MS ? 'met' : 'not met'})`;
    log(table([`issue 11 target at 1,000,000 rows: GraphQL p95 ≤ ${TARGET_P95_MS} ms (this run: ${rows} rows)`, 'p95'], [
      [`first page, first: ${SMALL_PAGE}`, verdict(firstSmall)],
      [`page after row ${depth}, first: ${SMALL_PAGE}`, verdict(deepSmall)],
      ['totalCount, all', verdict(countAll)],
    ]));
  } finally {
    await bench.app.stop();
  }
}

export const logPages: Benchmark = {
  name: 'log-pages',
  description: 'query time of a first and a deep page (keyset) and totalCount over 1,000,000 webhook_call rows, vs OFFSET',
  run,
};
