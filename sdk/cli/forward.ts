import http from 'node:http';
import https from 'node:https';
import { signWebhook } from '../verify';

export interface Header {
  name: string;
  value: string;
}

export interface Forwarded {
  /** The local server's status, when it answered. */
  status?: number;
  /** Why no answer came (refused, timeout, ...). */
  error?: string;
  durationMs: number;
}

export const USER_AGENT = 'cms-webhooks-cli (+https://www.standardwebhooks.com)';
const TIMEOUT_MS = 10_000;

// Kept-alive connections to the local server save a handshake per event; ours, so they can be
// closed when the command ends instead of holding the process open until they time out.
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

export function closeConnections(): void {
  agents['http:'].destroy();
  agents['https:'].destroy();
}

/**
 * The Standard Webhooks headers for `body`, signed now: the delivery worker's order (the
 * webhook's own headers, then user-agent, content-type, webhook-id, -timestamp, -signature).
 */
export function signedHeaders(own: Header[], secret: string, eventId: string, body: string, now = new Date(), userAgent = USER_AGENT, contentType = 'application/json'): Header[] {
  const timestamp = Math.floor(now.getTime() / 1000);
  return [
    ...own,
    { name: 'user-agent', value: userAgent },
    { name: 'content-type', value: contentType },
    { name: 'webhook-id', value: eventId },
    { name: 'webhook-timestamp', value: String(timestamp) },
    { name: 'webhook-signature', value: signWebhook(secret, eventId, timestamp, body) },
  ];
}

/**
 * One request to the developer's server. node:http rather than fetch: webhooks may use GET
 * and DELETE and still send their JSON body, which fetch refuses. Never throws.
 */
export async function forward(url: URL, method: string, headers: Header[], body: string): Promise<Forwarded> {
  const started = process.hrtime.bigint();
  const first = await attempt(url, method, headers, body);
  // A kept-alive connection the server closed while idle fails at once with ECONNRESET: that
  // request never reached the application, so it goes again, once, on a new connection (as
  // Node's documentation advises for request.reusedSocket).
  const result = first.staleConnection ? await attempt(url, method, headers, body) : first;
  return { status: result.status, error: result.error, durationMs: Number((process.hrtime.bigint() - started) / 1_000_000n) };
}

function attempt(url: URL, method: string, headers: Header[], body: string): Promise<Omit<Forwarded, 'durationMs'> & { staleConnection?: boolean }> {
  return new Promise((resolve) => {
    const client = url.protocol === 'https:' ? https : http;
    const payload = Buffer.from(body, 'utf8');
    const request = client.request(url, {
      method,
      agent: url.protocol === 'https:' ? agents['https:'] : agents['http:'],
      headers: { ...Object.fromEntries(headers.map((h) => [h.name, h.value])), 'content-length': String(payload.length) },
      timeout: TIMEOUT_MS,
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message, staleConnection: request.reusedSocket && error.code === 'ECONNRESET' }),
    );
    request.on('response', (response) => {
      // The answer's body is not shown, only drained, so the connection can be reused.
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode }));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ status: response.statusCode, error: error.code ?? error.message }));
    });
    request.end(payload);
  });
}
