import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Request, type Response } from 'express';

/**
 * The console (console/, built by `npm run build` into dist/console) served by the API
 * process itself, so `npm start` is all a newcomer runs. Vite names every asset by its
 * content hash, so assets are cached for a year; index.html is revalidated every time, so a
 * new build is picked up at the next load. Client routes (/projects/…) get index.html; what
 * looks like a file (an extension) or sits under /assets/ is a 404 when missing, as are the
 * API's own paths.
 */

/** dist/src/console at run time, src/console under jest: either way <root>/dist/console. */
function defaultRoot(): string {
  const up2 = path.resolve(__dirname, '..', '..');
  const repo = path.basename(up2) === 'dist' ? path.dirname(up2) : up2;
  return path.join(repo, 'dist', 'console');
}

const HOST = /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * No inline script or style, nothing from elsewhere. `connect-src 'self'` covers the page's own
 * ws: origin only in browsers that implement CSP 3, so the live log's WebSocket URL (same host)
 * is listed too; a Host header that is not a plain host[:port] adds nothing.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(req: Request, res: Response): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(req.headers.host));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

const API_PATHS = /^\/(graphql|healthz|livez|readyz|metrics)(\/|$)/;

export function mountConsole(app: Express, root = defaultRoot()): void {
  const index = path.join(root, 'index.html');
  app.use(
    '/assets',
    express.static(path.join(root, 'assets'), {
      index: false,
      setHeaders: (res) => {
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        res.setHeader('X-Content-Type-Options', 'nosniff');
      },
    }),
    // An asset of another build: a 404, never index.html under a script's URL.
    (_req: Request, res: Response) => void res.status(404).type('text/plain').send('Not found\n'),
  );
  app.get(/.*/, (req, res, next) => {
    if (API_PATHS.test(req.path) || path.extname(req.path) !== '') return next();
    securityHeaders(req, res);
    res.setHeader('Cache-Control', 'no-cache');
    if (!fs.existsSync(index)) {
      res.status(503).type('text/plain').send('The console is not built: run `npm run build` (npm start does), then reload.\n');
      return;
    }
    res.sendFile(index);
  });
}
