import http from 'node:http';
// The SDK by its package name, as a receiver that installed it imports it (in this repository,
// an npm workspace; tsconfig and jest map the name to sdk/ so tests use the sources).
import { CmsClient, verifyWebhook, WebhookPayload, WebhookVerificationError } from 'cms-webhooks-sdk';

/**
 * A complete webhook receiver: verify the signature on the raw body, answer quickly, then
 * fetch the document the event points at. Retries and replays repeat `event_id`, so it
 * remembers the ids it has handled and processes each event once.
 *
 *   CMS_WEBHOOK_SECRET=whsec_… CMS_TOKEN=cms_… CMS_URL=http://localhost:4000/graphql \
 *     node dist/examples/receiver.js
 *
 * With `cms-webhooks listen`, CMS_WEBHOOK_SECRET is the local secret it prints.
 */
export interface HandledEvent {
  event: WebhookPayload;
  document?: { id: string; title: string | null; status: string; blueprint: { apiName: string } };
}

export function createReceiver(options: { secret: string; cms: CmsClient; onEvent?: (handled: HandledEvent) => void }): http.Server {
  const seen = new Set<string>();
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let event: WebhookPayload;
      try {
        event = verifyWebhook(options.secret, req.headers, Buffer.concat(chunks));
      } catch (error) {
        res.writeHead(error instanceof WebhookVerificationError ? 400 : 500).end();
        return;
      }
      // Acknowledge first: the sender times out slow receivers and retries them.
      res.writeHead(204).end();
      if (seen.has(event.event_id)) return;
      seen.add(event.event_id);
      void handle(event).then(options.onEvent, (error) => console.error('handling failed:', error.message));
    });
  });

  async function handle(event: WebhookPayload): Promise<HandledEvent> {
    const { document_id } = event.metadata;
    if (!document_id || event.webhook.trigger === 'document_delete') return { event };
    // forDelivery: were this receiver to write back, the CMS would not send it its own change.
    const document = await options.cms.forDelivery(event).document(document_id);
    return { event, document };
  }
}

if (require.main === module) {
  const { CMS_WEBHOOK_SECRET, CMS_TOKEN, CMS_URL = 'http://localhost:4000/graphql', PORT = '8080' } = process.env;
  if (!CMS_WEBHOOK_SECRET || !CMS_TOKEN) {
    console.error('Set CMS_WEBHOOK_SECRET (whsec_…) and CMS_TOKEN (an API token of a project member)');
    process.exit(2);
  }
  const cms = new CmsClient({ url: CMS_URL, token: CMS_TOKEN });
  createReceiver({
    secret: CMS_WEBHOOK_SECRET,
    cms,
    onEvent: ({ event, document }) =>
      console.log(`${event.webhook.trigger} ${event.event_id}${document ? ` → "${document.title}" (${document.status})` : ''}`),
  }).listen(Number(PORT), () => console.log(`receiving on http://localhost:${PORT}/`));
}
