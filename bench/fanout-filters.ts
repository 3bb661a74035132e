import { type MatchableEvent, type MatchableWebhook, webhookMatchesEvent } from '../src/delivery/fanout.service';
import { WebhookTrigger } from '../src/webhooks/triggers';
import { type Benchmark, loadLine, rate, ratio, runPool, sized, option, table, waitFor } from './support';
import { type Fixture, saveDocument, setupProject, startCms } from './support-cms';
import { Receipts, startReceiver } from './support-http';

/**
 * What content filters cost the delivery path. One server (its own process, ROLE=all), two
 * projects with the same webhooks on the same receiver: in one the webhooks have no filters,
 * in the other every webhook has all three (documentStatuses, changedFields, an INCLUDE
 * actorFilter) set so that every event passes. Same saves, same deliveries; the ratio of
 * deliveries/s is the price of reading and checking the filters at fan-out. Rounds alternate
 * which goes first (plain then filtered, filtered then plain…) so a change of load hits both;
 * the best of each is kept.
 */
export const fanoutFilters: Benchmark = {
  name: 'fanout-filters',
  description: 'deliveries/s of saves fanned out to webhooks with content filters vs the same webhooks without, one server',
  async run(server, log) {
    const saves = sized('fanout-saves', 300, 100);
    const webhooks = option('fanout-webhooks', 20);
    const rounds = sized('filter-rounds', 4, 2);
    const stallMs = option('stall-ms', 60_000);
    const receipts = new Receipts();
    const receiver = await startReceiver(receipts.record);
    const cms = await startCms(await server.createDatabase('fanout_filters'), 'all');
    try {
      const urls = (tag: string) => Array.from({ length: webhooks }, (_, i) => `${receiver.base}/hook/${tag}/${i}`);
      const plain = await setupProject(cms.client, 'Bench plain', urls('plain'));
      const filtered = await setupProject(cms.client, 'Bench filtered', urls('filtered'));
      const { me } = await cms.client.request<{ me: { id: string } }>(`{ me { id } }`);
      for (const id of filtered.webhookIds) {
        await cms.client.request(`mutation($id: ID!, $i: WebhookUpdateInput!) { updateWebhook(id: $id, input: $i) { id } }`, {
          id,
          i: { documentStatuses: ['DRAFT'], changedFields: ['body'], actorFilter: { mode: 'INCLUDE', userIds: [me.id] } },
        });
      }

      const measure = async (fixture: Fixture, label: string, saves: number): Promise<number> => {
        // Warm-up: one save to every webhook of the project (the worker's sockets to each path), not measured.
        await saveDocument(cms.client, fixture, `Warm-up ${label}`);
        await waitFor(() => receipts.unique >= webhooks, () => receipts.total, stallMs, 10);
        receipts.reset();
        const started = performance.now();
        await runPool(saves, 16, async (i) => void (await saveDocument(cms.client, fixture, `${label} ${i}`)));
        const expected = saves * webhooks;
        const done = await Promise.race([waitFor(() => receipts.unique >= expected, () => receipts.total, stallMs, 10), cms.server.crashed]);
        if (!done) throw new Error(`fanout-filters (${label}): ${receipts.unique} of ${expected} deliveries arrived, then nothing for ${stallMs} ms`);
        const perSec = expected / ((receipts.lastAt - started) / 1000);
        receipts.reset();
        return perSec;
      };

      log(`  ${saves} saves by 16 clients, ${webhooks} webhooks each, ${rounds} round(s) of each (${loadLine()})`);
      // The server's code warms up on the first thousands of deliveries: a short unmeasured round
      // of each, so the first measured round is not the slower one for that reason alone.
      await measure(plain, 'warm-up plain', 20);
      await measure(filtered, 'warm-up filtered', 20);
      const results = { plain: [] as number[], filtered: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        // Which goes first alternates, so neither always runs right after the other's backlog.
        const order = round % 2 === 0 ? (['plain', 'filtered'] as const) : (['filtered', 'plain'] as const);
        for (const which of order) results[which].push(await measure(which === 'plain' ? plain : filtered, which, saves));
      }
      const best = { plain: Math.max(...results.plain), filtered: Math.max(...results.filtered) };
      const matching = matchingCost(me.id);
      log('');
      log(table(['fan-out with filters', 'value'], [
        ['deliveries per round', `${saves * webhooks} (${saves} saves × ${webhooks} webhooks)`],
        ['deliveries/s without filters, each round', results.plain.map(rate).join(', ')],
        ['deliveries/s with three filters on every webhook, each round', results.filtered.map(rate).join(', ')],
        ['best with ÷ best without', ratio(best.filtered / best.plain)],
        ['the match alone (in this process): ns per (event, webhook), without / with filters', `${matching.plain.toFixed(0)} / ${matching.filtered.toFixed(0)} ns`],
      ]));
    } finally {
      await cms.stop();
      await receiver.close();
    }
  },
};

/**
 * The matching function by itself, as fan-out calls it once per (event, webhook) pair: the
 * pure CPU part of the filters' cost, which the end-to-end rounds cannot resolve under load.
 */
export function matchingCost(userId: string): { plain: number; filtered: number } {
  const event: MatchableEvent = {
    trigger: WebhookTrigger.DOCUMENT_FIELD_UPDATE,
    blueprintId: 'b',
    metadata: { document_status_id: 0, changed_fields: ['title', 'body'], triggered_user_id: userId },
    actorTokenId: 't',
    loopOrigins: null,
  };
  const base = { id: 'w', triggers: [WebhookTrigger.DOCUMENT_CREATE, WebhookTrigger.DOCUMENT_FIELD_UPDATE], blueprintIds: null };
  const filtered: MatchableWebhook = { ...base, documentStatuses: [0, 2], changedFields: ['body'], actorFilter: { mode: 'INCLUDE', userIds: [userId], tokenIds: [] } };
  const time = (webhook: MatchableWebhook): number => {
    const n = 2_000_000;
    let passed = 0;
    for (let i = 0; i < n / 10; i++) if (webhookMatchesEvent(webhook, event)) passed++; // warm-up
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (webhookMatchesEvent(webhook, event)) passed++;
    const ns = Number(process.hrtime.bigint() - started) / n;
    if (passed === 0) throw new Error('matchingCost: nothing matched');
    return ns;
  };
  return { plain: time(base), filtered: time(filtered) };
}
