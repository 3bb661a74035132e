import { CmsClient } from '../client';
import type { WebhookPayload } from '../verify';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf, forwardUrlOf, headersOf, parse, UsageError } from './args';
import { forward, Header, signedHeaders } from './forward';
import { asUsage } from './listen';
import { loadLocalSecret } from './local-secret';
import { Output } from './output';
import { checkApi } from './preflight';

export const REPLAY_HELP = `Usage: cms-webhooks replay CALL_ID --forward-to URL [options]

Sends a logged webhook call again, to a server on your machine: the method, body and headers
of the log (webhookCalls, or the CMS's activity view), with a fresh webhook-timestamp and
webhook-signature. The body is the very string the webhook was sent, byte for byte.

  --forward-to URL     where to send it, e.g. http://localhost:3000/api/webhook
  --local-secret       sign with listen's local secret instead of the webhook's own
  --header 'N: v'      a header to send (repeatable); values of secret headers are masked in
                       the log, so they are left out unless given this way
  --json               the result as one JSON object on stdout
${CONNECTION_HELP}

Needs a token of an ADMIN (or OWNER) of the call's project, who may read the log and the
webhook's signing secret. Exit status: 0 when your server answered 2xx, 1 when it did not,
2 for a bad flag, a missing token, an unknown call, or a CMS that cannot be reached.`;

const REPLAY_OPTIONS = {
  ...CONNECTION_OPTIONS,
  'forward-to': { type: 'string' },
  'local-secret': { type: 'boolean' },
  header: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

/** Headers the log shows that are the sender's own framing or are signed anew. */
const REGENERATED = new Set(['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'user-agent']);
/** How the CMS masks a secret header's value in the log (src/common/mask.ts). */
const MASK = '••••';

export async function replay(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parse('replay', args, REPLAY_OPTIONS, 1);
  if (values.help) {
    process.stdout.write(`${REPLAY_HELP}\n`);
    return 0;
  }
  const [callId] = positionals;
  if (!callId) throw new UsageError('CALL_ID is required: the id of a logged webhook call (see cms-webhooks replay --help)');
  const forwardTo = forwardUrlOf(values['forward-to']);
  const given = headersOf(values.header);
  const connection = connectionOf(values, env);
  const output = Output.forProcess(Boolean(values.json), env);

  const cms = new CmsClient({ url: connection.apiUrl, token: connection.token });
  await checkApi(cms, connection.apiUrl);
  let call;
  let secret: string;
  try {
    call = await cms.webhookCall(callId);
    secret = values['local-secret'] ? loadLocalSecret(env) : (await cms.webhook(call.webhookId)).signingSecret;
  } catch (error) {
    throw asUsage(error, `call ${callId}`);
  }

  const named = new Set(given.map((h) => h.name.toLowerCase()));
  const own: Header[] = [];
  for (const header of call.requestHeaders) {
    const name = header.name.toLowerCase();
    if (REGENERATED.has(name) || named.has(name)) continue;
    if (header.value.startsWith(MASK)) output.warn(`header ${header.name} is secret, masked in the log: not sent (give it with --header '${header.name}: value')`);
    else own.push(header);
  }
  const userAgent = call.requestHeaders.find((h) => h.name.toLowerCase() === 'user-agent')?.value;
  const time = new Date();
  // A templated body goes out with the content type it was logged with.
  const contentType = call.requestHeaders.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? 'application/json';
  const headers = signedHeaders([...own, ...given], secret, call.eventId, call.requestBody, time, userAgent, contentType);
  const result = await forward(forwardTo, call.requestMethod, headers, call.requestBody);

  const payload = parsed(call.requestBody);
  output.request({
    time,
    eventId: call.eventId,
    trigger: payload?.webhook?.trigger ?? call.trigger.toLowerCase(),
    documentId: payload?.metadata?.document_id || undefined,
    blueprintId: payload?.metadata?.blueprint_id || undefined,
    userId: payload?.metadata?.user_id,
    callId: call.id,
    method: call.requestMethod,
    url: forwardTo.href,
    result,
  });
  return result.status !== undefined && result.status >= 200 && result.status < 300 ? 0 : 1;
}

function parsed(body: string): Partial<WebhookPayload> | undefined {
  try {
    return JSON.parse(body) as Partial<WebhookPayload>;
  } catch {
    return undefined;
  }
}
