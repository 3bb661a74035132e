import fs from 'node:fs';
import { verifyWebhook, WebhookVerificationError } from '../verify';
import { headersOf, parse, UsageError } from './args';

export const VERIFY_HELP = `Usage: cms-webhooks verify --secret whsec_... --header 'webhook-id: ...' --header 'webhook-timestamp: ...'
                           --header 'webhook-signature: ...' [FILE]

Checks a webhook request as a receiver does (the SDK's verifyWebhook, which accepts what the
standardwebhooks package accepts): the body is read from FILE, or from stdin, exactly as
received.

  --secret whsec_...   the webhook's signing secret (env CMS_WEBHOOK_SECRET)
  --header 'N: v'      a request header (repeatable); the three webhook-* ones are needed
  --tolerance SECONDS  how far webhook-timestamp may be from now (default 300)
  -h, --help           this help

Exit status: 0 valid, 1 not valid (the reason is printed), 2 for a bad call.`;

const VERIFY_OPTIONS = {
  secret: { type: 'string' },
  header: { type: 'string', multiple: true },
  tolerance: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function verifyCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parse('verify', args, VERIFY_OPTIONS, 1);
  if (values.help) {
    process.stdout.write(`${VERIFY_HELP}\n`);
    return 0;
  }
  const secret = values.secret ?? env.CMS_WEBHOOK_SECRET;
  if (!secret) throw new UsageError('no secret: pass --secret or set CMS_WEBHOOK_SECRET');
  const tolerance = values.tolerance === undefined ? 300 : Number(values.tolerance);
  if (!Number.isInteger(tolerance) || tolerance < 0) throw new UsageError(`--tolerance must be a whole number of seconds, got '${values.tolerance}'`);
  const headers = Object.fromEntries(headersOf(values.header).map((h) => [h.name.toLowerCase(), h.value]));
  const [file] = positionals;
  let body: Buffer;
  try {
    body = file && file !== '-' ? fs.readFileSync(file) : fs.readFileSync(0);
  } catch (error) {
    throw new UsageError(`cannot read the body from ${file ?? 'stdin'}: ${(error as Error).message}`);
  }
  try {
    const payload = verifyWebhook(secret, headers, body, { toleranceSeconds: tolerance });
    process.stdout.write(`valid: ${payload.webhook.trigger} event ${payload.event_id}\n`);
    return 0;
  } catch (error) {
    if (error instanceof WebhookVerificationError) {
      process.stdout.write(`not valid: ${error.reason} (${error.message})\n`);
      return 1;
    }
    // A malformed secret: the call is wrong, not the request.
    throw new UsageError((error as Error).message);
  }
}
