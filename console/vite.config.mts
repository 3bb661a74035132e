import { defineConfig } from 'vite';

const here = import.meta.dirname;

/**
 * The console is served by the API server from dist/console (src/console/static.ts): hashed
 * file names under /assets (cached for a year), one index.html, no inline script (the
 * Content-Security-Policy forbids it, so the module-preload polyfill, which Vite would inline
 * in the entry, is off: every browser that runs the console supports modulepreload).
 */
export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: `${here}/../dist/console`,
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    // Everything as files: a data: URI for a script or a font would need a looser policy.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 700,
  },
  server: {
    // `npx vite console` while `npm start` runs: the API on :4000, the console with reloads on :5173.
    proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } },
  },
});
