import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { currentLogger, type Logger } from '../observability/logger';

/** Documents' fields may be 1 MiB of JSON; escaped inside a request body they need about twice that. */
export const HTTP_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** The same shape as every other GraphQL error, so a client has one way to read failures. */
function send(res: Response, refusal: Refusal): void {
  res.status(refusal.status).json({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
}

/**
 * POST /graphql takes JSON only. Anything else would reach Apollo with no parsed body (or be
 * parsed as something else); 415 says what to send instead. GET carries the query in the URL.
 */
export function requireJsonBody(): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type === 'application/json') return next();
    send(res, { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' });
  };
}

/**
 * body-parser's errors carry the body (a JSON syntax error quotes it) and a stack; neither may
 * reach the client or the log. Messages here are fixed texts, chosen by the error's `type`.
 */
function classify(error: unknown): Refusal {
  const { type, status, statusCode } = (error ?? {}) as { type?: unknown; status?: unknown; statusCode?: unknown };
  switch (type) {
    case 'entity.parse.failed':
      return { status: 400, code: 'BAD_REQUEST', message: 'The request body is not valid JSON' };
    case 'entity.too.large':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: `The request body is larger than the limit of ${HTTP_BODY_LIMIT_BYTES} bytes (2 MiB)` };
    case 'charset.unsupported':
      return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The request body must be JSON in UTF-8' };
    case 'encoding.unsupported':
      return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Encoding must be identity, gzip, deflate or br' };
  }
  const code = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : 500;
  if (code >= 400 && code < 500) return { status: code, code: 'BAD_REQUEST', message: 'The request could not be read' };
  return { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' };
}

/**
 * The last handler of the app, so Express's own (an HTML page with the stack, and the error
 * printed to stderr outside production) never runs. Client mistakes are not logged; anything
 * else is, by name only: messages can quote the request.
 */
export function httpErrorHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const refusal = classify(error);
    if (refusal.status >= 500) currentLogger(log).error({ method: req.method, path: req.path, errorName: error instanceof Error ? error.name : typeof error }, `HTTP ${req.method} ${req.path} failed`);
    // Too late for a status: end the response rather than hand it to Express's handler.
    if (res.headersSent) return void res.destroy();
    send(res, refusal);
  };
}
