import { ensureChromium } from './chromium';

// Run by `npm test` before jest: the browser tests need a Chromium (test/support/chromium.ts).
if (!ensureChromium()) process.exit(1);
