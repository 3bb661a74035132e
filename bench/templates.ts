import { buildBody, type TemplateFacts } from '../src/delivery/body';
import { BodyFormat } from '../src/delivery/body-template';
import { sampleEvent } from '../src/delivery/payload';
import { WebhookTrigger } from '../src/webhooks/triggers';
import { type Benchmark, loadLine, option, rate, ratio, runPool, sized, table, type DatabaseServer, waitFor } from './support';
import { saveDocument, setupProject, startCms } from './support-cms';
import { Receipts, startReceiver } from './support-http';

/**
 * What body templates cost: the fanout benchmark's load (saves fanned out to 20 webhooks, a
 * server process with ROLE=all) once with the contract payload and once with every webhook
 * rendering a template that reads the document's title and the blueprint's and project's
 * names (so fan-out also runs its extra query), in the same run, alternating (plain, templated,
 * templated, plain, …) so that a machine getting busier does not favour either. And, in this
 * process, the time to build one body each way.
 */

/** A GitHub repository_dispatch body with a Slack-like line: every kind of placeholder. */
export const BENCH_TEMPLATE = JSON.stringify({
  event_type: 'cms-{{ webhook.trigger }}',
  text: '*{{ document.title | truncate: 60 }}* ({{ blueprint.name }}) is {{ document.status | downcase }} in {{ project.name }}',
  status: '{{ metadata.document_status_id }}',
  client_payload: '{{ payload }}',
});

async function phase(server: DatabaseServer, templated: boolean, saves: number, webhooks: number, stallMs: number): Promise<number> {
  const receipts = new Receipts();
  const receiver = await startReceiver(receipts.record);
  const cms = await startCms(await server.createDatabase(templated ? 'templates_on' : 'templates_off'), 'all');
  const paths = Array.from({ length: webhooks }, (_, i) => `/hook/${i}`);
  try {
    const fixture = await setupProject(cms.client, 'Bench templates', paths.map((p) => `${receiver.base}${p}`));
    if (templated) {
      for (const id of fixture.webhookIds) {
        await cms.client.request(`mutation($id: ID!, $t: String) { updateWebhook(id: $id, input: { bodyTemplate: $t }) { id } }`, { id, t: BENCH_TEMPLATE });
      }
    }
    const warm = await saveDocument(cms.client, fixture, 'Warm-up');
    await Promise.all(paths.map((p) => receipts.arrival(p, warm, stallMs)));
    receipts.reset();
    const started = performance.now();
    await runPool(saves, 16, async (i) => void (await saveDocument(cms.client, fixture, `Templates ${i}`)));
    const expected = saves * webhooks;
    const done = await Promise.race([waitFor(() => receipts.unique >= expected, () => receipts.total, stallMs, 10), cms.server.crashed]);
    if (!done) throw new Error(`templates: ${receipts.unique} of ${expected} deliveries arrived, then nothing for ${stallMs} ms`);
    return expected / ((receipts.lastAt - started) / 1000);
  } finally {
    await cms.stop();
    await receiver.close();
  }
}

/** Microseconds per body, over `n` builds after a warm-up. */
function perBodyUs(n: number, build: (i: number) => string): number {
  for (let i = 0; i < 1000; i++) build(i);
  const started = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += build(i).length;
  if (bytes === 0) throw new Error('no body built');
  return ((performance.now() - started) * 1000) / n;
}

export const templates: Benchmark = {
  name: 'templates',
  description: 'deliveries/s of saves fanned out to 20 webhooks, with and without a body template (same run), and µs per body',
  async run(server, log) {
    const saves = sized('templates-saves', 300, 60);
    const webhooks = option('fanout-webhooks', 20);
    // Two rounds at least: plain-templated then templated-plain, so neither always runs first.
    const rounds = sized('templates-rounds', 4, 2);
    const stallMs = option('stall-ms', 60_000);

    const event = sampleEvent(WebhookTrigger.DOCUMENT_UPDATE, '5b2c7f9e-1d3a-4e8b-9c6d-0a1b2c3d4e5f');
    const facts: TemplateFacts = { context: { document: { title: 'A post about benchmarks' } }, projectName: 'Bench', blueprint: { name: 'Post', api_name: 'post' } };
    const plainSpec = { bodyTemplate: null, bodyFormat: BodyFormat.JSON, bodyContentType: null };
    const templateSpec = { bodyTemplate: BENCH_TEMPLATE, bodyFormat: BodyFormat.JSON, bodyContentType: null };
    const n = sized('templates-bodies', 50_000, 10_000);
    const plainUs = perBodyUs(n, () => buildBody(plainSpec, event, event.id, null).body);
    const templateUs = perBodyUs(n, () => buildBody(templateSpec, event, event.id, facts).body);

    log(`  ${rounds} round(s) of ${saves} saves by 16 clients × ${webhooks} webhooks, plain and templated alternating (${loadLine()})`);
    const plain: number[] = [];
    const templated: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // plain, templated; then templated, plain: each position once per pair of rounds.
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const withTemplate of order) {
        const perSec = await phase(server, withTemplate, saves, webhooks, stallMs);
        (withTemplate ? templated : plain).push(perSec);
        log(`  round ${round + 1}, ${withTemplate ? 'templated' : 'plain    '}: ${rate(perSec)}`);
      }
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    log('');
    log(table(['templates', 'value'], [
      ['deliveries/s, contract payload (mean of rounds)', rate(mean(plain))],
      ['deliveries/s, body template (mean of rounds)', rate(mean(templated))],
      ['templated ÷ plain', ratio(mean(templated) / mean(plain))],
      ['µs per body, contract payload (in process)', plainUs.toFixed(1)],
      ['µs per body, template (in process)', templateUs.toFixed(1)],
      ['bodies/s one core could render with the template', rate(1_000_000 / templateUs)],
    ]));
  },
};
