import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { curlArguments, shellQuote, toCurl } from './curl';

const marker = path.join(os.tmpdir(), `curl-test-pwned-${process.pid}`);

/** A body that tries every way out of a shell word. */
const HOSTILE_BODY = [
  `{"title":"it's \\"quoted\\"", "a":'single'}`,
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `\${HOME} $HOME ~ * ? [a] !! \\ \\n`,
  `line two\r\nline three\ttab`,
  `'; touch ${marker}; echo '`,
  `non-ASCII: é ü ß 中文 🚀 \u00a0 \u2028`,
  `@/etc/passwd`,
  `'''`,
].join('\n');

/** Runs `command` in sh with `curl` replaced by a function printing each argument NUL-terminated. */
function argumentsSeenByShell(command: string): Buffer[] {
  const script = `curl() { for a in "$@"; do printf '%s\\0' "$a"; done; }\n${command}`;
  const out = execFileSync('sh', ['-c', script]);
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 0) {
      parts.push(out.subarray(start, i));
      start = i + 1;
    }
  }
  expect(start).toBe(out.length);
  return parts;
}

afterEach(() => fs.rmSync(marker, { force: true }));

describe('shellQuote', () => {
  test.each([
    ['empty', ''],
    ['plain', 'hello'],
    ['single quotes', `it's 'x' '' '`],
    ['hostile body', HOSTILE_BODY],
  ])('sh reads back exactly the same bytes: %s', (_name, value) => {
    const out = execFileSync('sh', ['-c', `printf %s ${shellQuote(value)}`]);
    expect(out.equals(Buffer.from(value, 'utf8'))).toBe(true);
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe('toCurl', () => {
  const request = {
    method: 'POST',
    url: "https://example.test/hook?a=1&b='2'",
    headers: [
      { name: 'content-type', value: 'application/json' },
      { name: 'x-api-key', value: '••••3gat' },
      { name: 'x-empty', value: '' },
      { name: 'x-evil', value: "$(touch x)'; rm -rf / #" },
    ],
    body: HOSTILE_BODY,
  };

  test('the shell hands curl exactly the logged method, URL, headers and body', () => {
    const command = toCurl(request);
    const seen = argumentsSeenByShell(command);
    const expected = curlArguments(request).map((a) => Buffer.from(a, 'utf8'));
    expect(seen.map((b) => b.toString('utf8'))).toEqual(expected.map((b) => b.toString('utf8')));
    seen.forEach((b, i) => expect(b.equals(expected[i])).toBe(true));
    expect(fs.existsSync(marker)).toBe(false);
  });

  test('is readable: one option per line, --data-raw so "@" is not a file', () => {
    const command = toCurl({ method: 'GET', url: 'https://e.test/h', headers: [{ name: 'a', value: 'b' }], body: '@x' });
    expect(command).toBe("curl --request 'GET' 'https://e.test/h' \\\n  --header 'a: b' \\\n  --data-raw '@x'");
  });

  test('an empty header value uses curl\'s "name;" form (a bare "name:" would remove the header)', () => {
    expect(curlArguments({ method: 'POST', url: 'u', headers: [{ name: 'x-empty', value: '' }], body: '' })).toEqual([
      '--request', 'POST', 'u', '--header', 'x-empty;', '--data-raw', '',
    ]);
  });
});
