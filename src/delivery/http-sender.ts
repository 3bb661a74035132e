import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import got, { type RequestFunction, type Response } from 'got';
import { parseRetryAfter } from './backoff';
import { type AllowList, BlockedAddressError, checkUrlHost, guardedLookup, parseAllowedCidrs } from './ssrf';

/** One HTTP attempt of a webhook call, whatever its outcome: the worker logs every one. */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Header = { name: string; value: string };

export type OutgoingRequest = {
  method: HttpMethod;
  url: string;
  headers: Header[];
  body: string;
};

export type AttemptErrorCode = 'timeout' | 'refused' | 'reset' | 'dns' | 'blocked' | 'status' | 'redirect' | 'other';

export type AttemptResult = {
  /** The only field that decides whether to retry. */
  success: boolean;
  statusCode: number | null;
  /** The headers given plus those the sender added (user-agent, content-type), in wire order. */
  requestHeaders: Header[];
  responseHeaders: Header[];
  /** At most RESPONSE_BODY_LIMIT bytes, decoded as UTF-8; null when no response arrived. */
  responseBody: string | null;
  error: string | null;
  errorCode: AttemptErrorCode | null;
  durationMs: number;
  retryAfterMs?: number;
};

export type HttpSenderOptions = { timeoutMs: number; allowedCidrs: string[]; userAgent: string };

export interface HttpSender {
  send(request: OutgoingRequest): Promise<AttemptResult>;
  close(): void;
}

export const RESPONSE_BODY_LIMIT = 64 * 1024;

/**
 * Adds `user-agent` and `content-type: application/json` unless given (request-builder.ts
 * gives both), just before the first `webhook-*` header: the contract orders a request's
 * headers as the webhook's own, then user-agent, then the Standard Webhooks ones.
 */
export function buildRequestHeaders(headers: readonly Header[], userAgent: string): Header[] {
  const given = new Set(headers.map((h) => h.name.toLowerCase()));
  const added: Header[] = [];
  if (!given.has('user-agent')) added.push({ name: 'user-agent', value: userAgent });
  if (!given.has('content-type')) added.push({ name: 'content-type', value: 'application/json' });
  const at = headers.findIndex((h) => h.name.toLowerCase().startsWith('webhook-'));
  const split = at === -1 ? headers.length : at;
  return [...headers.slice(0, split), ...added, ...headers.slice(split)];
}

/**
 * Hands Node the headers as a flat [name, value, …] list, exactly as given: order, spelling,
 * repeated names, and names like `__proto__` or `constructor` that an object keyed by header
 * name would lose or mangle. got never sees them (it keeps headers in such objects); what got
 * adds itself (content-length, accept-encoding) follows, unless given. With a list, Node adds
 * no Host header of its own, so it comes first here.
 */
function asGiven(headers: readonly Header[]): RequestFunction {
  const given = new Set(headers.map((h) => h.name.toLowerCase()));
  return (url, options) => {
    const raw: string[] = given.has('host') ? [] : ['host', url.host];
    for (const { name, value } of headers) raw.push(name, value);
    // got always hands over its own headers as an object keyed by lower-case name.
    for (const [name, value] of Object.entries((options.headers ?? {}) as http.OutgoingHttpHeaders)) {
      if (given.has(name) || value === undefined) continue;
      for (const one of [value].flat()) raw.push(name, String(one));
    }
    const request = url.protocol === 'https:' ? https.request : http.request;
    return request(url, { ...options, headers: raw } as unknown as https.RequestOptions);
  };
}

function pairs(raw: readonly string[]): Header[] {
  const result: Header[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) result.push({ name: raw[i], value: raw[i + 1] });
  return result;
}

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown) => {
    if (typeof e !== 'object' || e === null || seen.has(e)) return;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    visit((e as { cause?: unknown }).cause);
    // Happy-eyeballs connects fail with an AggregateError holding one error per address.
    if (e instanceof AggregateError) e.errors.forEach(visit);
  };
  visit(error);
  return codes;
}

function findBlocked(error: unknown): BlockedAddressError | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof BlockedAddressError) return e;
  }
  return undefined;
}

function classify(error: unknown, timeoutMs: number): { errorCode: AttemptErrorCode; message: string } {
  const blocked = findBlocked(error);
  if (blocked) return { errorCode: 'blocked', message: blocked.message };
  const detail = error instanceof Error ? error.message : String(error);
  const codes = errorCodes(error);
  if (codes.includes('ETIMEDOUT')) {
    return { errorCode: 'timeout', message: `timed out after ${timeoutMs} ms (WEBHOOK_TIMEOUT_MS)` };
  }
  if (codes.includes('EBLOCKED')) return { errorCode: 'blocked', message: detail };
  if (codes.includes('ECONNREFUSED')) return { errorCode: 'refused', message: `connection refused: ${detail}` };
  if (codes.some((c) => ['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'].includes(c))) {
    return { errorCode: 'reset', message: `connection reset: ${detail}` };
  }
  if (codes.some((c) => c === 'ENOTFOUND' || c === 'ENODATA' || c.startsWith('EAI_'))) {
    return { errorCode: 'dns', message: `DNS lookup failed: ${detail}` };
  }
  return { errorCode: 'other', message: detail };
}

export function createHttpSender(options: HttpSenderOptions): HttpSender {
  const allow: AllowList = parseAllowedCidrs(options.allowedCidrs);
  const lookup = guardedLookup(allow);
  // The agents' own `lookup` wins over anything in the request options (Agent#addRequest),
  // so every pooled connection to a host name has passed the SSRF check.
  const agent = {
    http: new http.Agent({ keepAlive: true, lookup }),
    https: new https.Agent({ keepAlive: true, lookup }),
  };
  const client = got.extend({
    agent,
    dnsLookup: lookup,
    timeout: { request: options.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    allowGetBody: true,
    decompress: true,
  });

  function exchange(url: URL, request: OutgoingRequest, requestHeaders: Header[], started: number) {
    return new Promise<AttemptResult>((resolve) => {
      let response: Response | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      let capped = false;
      let settled = false;

      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        const result: AttemptResult = {
          success: false,
          statusCode: response?.statusCode ?? null,
          requestHeaders,
          responseHeaders: response ? pairs(response.rawHeaders) : [],
          responseBody: response ? decode(chunks, capped) : null,
          error: null,
          errorCode: null,
          durationMs: Math.round(performance.now() - started),
        };
        const failure = error === undefined ? null : classify(error, options.timeoutMs);
        if (!response) {
          const { message, errorCode } = failure ?? { message: 'no response', errorCode: 'other' as const };
          resolve({ ...result, error: message, errorCode });
          return;
        }
        resolve(judge(result, response, failure));
      };

      let stream: ReturnType<typeof client.stream>;
      try {
        stream = client.stream(url, {
          method: request.method,
          body: request.body,
          request: asGiven(requestHeaders),
        });
      } catch (error) {
        finish(error);
        return;
      }
      stream.on('response', (res: Response) => {
        response = res;
      });
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = RESPONSE_BODY_LIMIT - size;
        if (chunk.length < room) {
          chunks.push(chunk);
          size += chunk.length;
          return;
        }
        // Enough for the log: stop reading rather than buffer whatever else the receiver sends.
        chunks.push(chunk.subarray(0, room));
        capped = true;
        finish();
        stream.destroy();
      });
      stream.on('end', () => finish());
      stream.on('error', (error: unknown) => {
        finish(error);
        stream.destroy();
      });
    });
  }

  return {
    async send(request) {
      const started = performance.now();
      const requestHeaders = buildRequestHeaders(request.headers, options.userAgent);
      const refused = (errorCode: AttemptErrorCode, error: string): AttemptResult => ({
        success: false,
        statusCode: null,
        requestHeaders,
        responseHeaders: [],
        responseBody: null,
        error,
        errorCode,
        durationMs: Math.round(performance.now() - started),
      });
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return refused('other', `invalid URL: ${request.url}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return refused('other', `unsupported URL scheme ${url.protocol} (only http and https)`);
      }
      // Node does not call `lookup` for a literal IP, so the guarded lookup never sees those.
      const verdict = checkUrlHost(url, allow);
      if (!verdict.allowed) return refused('blocked', verdict.reason);
      return exchange(url, request, requestHeaders, started);
    },
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

function decode(chunks: Buffer[], capped: boolean): string {
  const decoder = new StringDecoder('utf8');
  // A cut body may end inside a multi-byte character: drop that fragment rather than show U+FFFD.
  const text = decoder.write(Buffer.concat(chunks));
  return capped ? text : text + decoder.end();
}

/**
 * Decided by the status line once one has arrived: a 2xx whose body then fails to arrive in
 * full was still accepted by the receiver, so it is a success (with the failure noted), and
 * retrying it would deliver the event twice.
 */
function judge(
  result: AttemptResult,
  response: Response,
  failure: { errorCode: AttemptErrorCode; message: string } | null,
): AttemptResult {
  const status = response.statusCode;
  const incomplete = failure ? `response body incomplete: ${failure.message}` : null;
  if (status >= 200 && status < 300) return { ...result, success: true, error: incomplete };

  const location = response.headers.location;
  const base =
    status >= 300 && status < 400
      ? { errorCode: 'redirect' as const, error: `redirect not followed: ${status} to ${location ?? '(no location)'}` }
      : { errorCode: 'status' as const, error: `receiver answered ${status}` };
  const retryAfter = response.headers['retry-after'];
  const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, new Date());
  return {
    ...result,
    errorCode: base.errorCode,
    error: incomplete ? `${base.error}; ${incomplete}` : base.error,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}
