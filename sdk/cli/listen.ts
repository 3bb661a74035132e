import { CmsApiError, CmsClient } from '../client';
import type { WebhookTrigger } from '../generated/graphql';
import type { WebhookEvent } from '../types';
import type { WebhookPayload } from '../verify';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf, forwardUrlOf, headersOf, parse, UsageError } from './args';
import { EventSource, StreamRefused } from './event-source';
import { forward, Header, signedHeaders } from './forward';
import { localSecretFile, loadLocalSecret } from './local-secret';
import { Output } from './output';
import { checkApi, projectAccess } from './preflight';

export const LISTEN_HELP = `Usage: cms-webhooks listen --forward-to URL (--project ID | --webhook ID) [options]

Sends each event of a CMS project to a server on your machine, as a webhook would: the same
body, signed with Standard Webhooks headers. It connects out to the CMS over a GraphQL
subscription, so your machine needs no public address and no tunnel.

  --forward-to URL     where to send each event, e.g. http://localhost:3000/api/webhook
  --project ID         the project whose events to forward (not needed with --webhook)
  --webhook ID         forward exactly what this webhook gets: its triggers, blueprint filter,
                       method, headers, signed with its own signing secret
  --triggers a,b       only these triggers, e.g. document_create,document_update (default:
                       all, or all of the webhook's)
  --header 'N: v'      a header to send with each request (repeatable); secret headers of a
                       webhook never leave the CMS, so give their values this way
  --json               one JSON object per request on stdout, instead of a line for people
  --print-secret       print the local signing secret and exit
${CONNECTION_HELP}

Without --webhook, requests are signed with a local secret, made once and kept in
~/.config/cms-webhooks/listen-secret: configure your receiver with it (printed at start).
Each request is one line: time, trigger, ids, your server's status and how long it took.
A failed request (an error status, or nothing listening) is shown and not retried.

If the connection drops or the CMS restarts, listen reconnects (after 0.25 s, doubling up to
10 s) and resumes after the last event it received, so nothing that happened meanwhile is
skipped: the CMS replays up to 10000 events of the project, as long as they are kept
(WEBHOOK_LOG_RETENTION, 90 days by default). Further back, it says so and goes on with new
events.

Needs a token of an ADMIN (or OWNER) of the project. Exit status: 2 for a bad flag, a
missing token, or a CMS that cannot be reached or refuses the token at start; 1 if the CMS
ends the stream later (token revoked, role lost); 0 on Ctrl-C.`;

const LISTEN_OPTIONS = {
  ...CONNECTION_OPTIONS,
  'forward-to': { type: 'string' },
  project: { type: 'string' },
  webhook: { type: 'string' },
  triggers: { type: 'string' },
  header: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  'print-secret': { type: 'boolean' },
} as const;

const TRIGGERS: readonly WebhookTrigger[] = [
  'DOCUMENT_FIELD_UPDATE',
  'DOCUMENT_CREATE',
  'DOCUMENT_UPDATE',
  'DOCUMENT_DELETE',
  'BLUEPRINT_CREATE',
  'BLUEPRINT_UPDATE',
  'BLUEPRINT_DELETE',
  'PROJECT_MEMBER_ASSIGNED',
  'PROJECT_MEMBER_DEASSIGNED',
];

/** What each request is sent with. */
interface Target {
  projectId: string;
  webhookId?: string;
  method: string;
  headers: Header[];
  secret: string;
}

export async function listen(args: string[], env: NodeJS.ProcessEnv, stop: AbortSignal): Promise<number> {
  const { values } = parse('listen', args, LISTEN_OPTIONS);
  if (values.help) {
    process.stdout.write(`${LISTEN_HELP}\n`);
    return 0;
  }
  if (values['print-secret']) {
    process.stdout.write(`${loadLocalSecret(env)}\n`);
    return 0;
  }
  const forwardTo = forwardUrlOf(values['forward-to']);
  const triggers = triggersOf(values.triggers);
  const given = headersOf(values.header);
  const connection = connectionOf(values, env);
  if (!values.project && !values.webhook) throw new UsageError('--project ID is required (or --webhook ID)');
  const output = Output.forProcess(Boolean(values.json), env);

  const cms = new CmsClient({ url: connection.apiUrl, token: connection.token });
  await checkApi(cms, connection.apiUrl);
  const target = values.webhook ? await webhookTarget(cms, values.webhook, values.project, given, output) : await localTarget(cms, values.project!, given, env, output);

  let sending: Promise<void> = Promise.resolve();
  const send = (event: WebhookEvent) => {
    // One at a time, in the order the CMS sent them, as a receiver would see a single webhook's calls.
    sending = sending
      .then(() => deliver(event, target, forwardTo, output))
      .catch((error: Error) => output.warn(`event ${event.id} not forwarded: ${error.message}`));
  };
  const source = new EventSource({
    wsUrl: connection.apiUrl.replace(/^http/, 'ws'),
    token: connection.token,
    projectId: target.projectId,
    webhookId: target.webhookId,
    triggers,
    onEvent: send,
    notice: (text) => output.notice(text),
    warn: (text) => output.warn(text),
  });
  stop.addEventListener('abort', () => source.stop(), { once: true });

  const what = target.webhookId ? `what webhook ${target.webhookId} gets` : `events of project ${target.projectId}`;
  const which = triggers ? ` (${triggers.map((t) => t.toLowerCase()).join(', ')})` : '';
  try {
    await source.run(() => output.notice(`Ready: forwarding ${what}${which} to ${forwardTo.href} (Ctrl-C to stop)`));
  } catch (error) {
    if (!(error instanceof StreamRefused)) throw error;
    output.warn(error.message);
    await sending;
    return 1;
  }
  await sending;
  return 0;
}

async function webhookTarget(cms: CmsClient, webhookId: string, projectId: string | undefined, given: Header[], output: Output): Promise<Target> {
  let webhook;
  try {
    webhook = await cms.webhook(webhookId);
  } catch (error) {
    throw asUsage(error, `webhook ${webhookId}`);
  }
  if (projectId && projectId !== webhook.projectId) throw new UsageError(`--project: webhook ${webhookId} is in project ${webhook.projectId}`);
  const named = new Set(given.map((h) => h.name.toLowerCase()));
  const headers: Header[] = [];
  for (const header of webhook.headers) {
    if (named.has(header.name.toLowerCase())) continue;
    if (header.secret) output.warn(`header ${header.name} is secret and never leaves the CMS: not sent (give it with --header '${header.name}: value')`);
    else headers.push({ name: header.name, value: header.value });
  }
  output.notice(`Signing with webhook ${webhook.id}'s own signing secret (${webhook.name}, ${webhook.method})`);
  return { projectId: webhook.projectId, webhookId: webhook.id, method: webhook.method, headers: [...headers, ...given], secret: webhook.signingSecret };
}

async function localTarget(cms: CmsClient, projectId: string, given: Header[], env: NodeJS.ProcessEnv, output: Output): Promise<Target> {
  await projectAccess(cms, projectId);
  const secret = loadLocalSecret(env);
  output.notice(`Signing with the local secret ${secret} (kept in ${localSecretFile(env)})`);
  return { projectId, method: 'POST', headers: given, secret };
}

async function deliver(event: WebhookEvent, target: Target, url: URL, output: Output): Promise<void> {
  // Loop protection: the CMS sends such an event to no webhook, so a local receiver does not get it either.
  if (event.suppressedReason) return output.notice(`event ${event.id} not forwarded: ${event.suppressedReason}`);
  const time = new Date();
  const headers = signedHeaders(target.headers, target.secret, event.id, event.body, time, undefined, event.contentType);
  const result = await forward(url, target.method, headers, event.body);
  // A webhook's body template may send any shape, text included: what the line shows is then the event's own.
  const payload = payloadOf(event.body);
  output.request({
    time,
    eventId: event.id,
    trigger: payload?.webhook?.trigger ?? event.trigger.toLowerCase(),
    documentId: payload?.metadata?.document_id || undefined,
    blueprintId: payload?.metadata?.blueprint_id || undefined,
    userId: payload?.metadata?.user_id,
    method: target.method,
    url: url.href,
    result,
  });
}

function payloadOf(body: string): Partial<WebhookPayload> | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<WebhookPayload> | null;
    return parsed !== null && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function triggersOf(value: string | undefined): WebhookTrigger[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((t) => t.trim().toUpperCase()).filter(Boolean);
  const unknown = names.filter((n) => !TRIGGERS.includes(n as WebhookTrigger));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`--triggers: unknown trigger '${unknown[0] ?? value}'; one or more of ${TRIGGERS.map((t) => t.toLowerCase()).join(', ')}`);
  }
  return names as WebhookTrigger[];
}

export function asUsage(error: unknown, what: string): Error {
  if (!(error instanceof CmsApiError)) return error as Error;
  if (error.code === 'NOT_FOUND') return new UsageError(`${what} not found (or not in a project you are a member of)`);
  if (error.code === 'FORBIDDEN') return new UsageError(`${what}: your role does not allow it (ADMIN or OWNER needed)`);
  return new UsageError(`${what}: ${error.message} (${error.code})`);
}
