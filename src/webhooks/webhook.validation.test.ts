import { AppError, ErrorCode } from '../common/app-error';
import type { StoredHeader } from './webhook.entity';
import {
  HeaderInput,
  isSendableHeader,
  LIMITS,
  RESERVED_HEADERS,
  validateBlueprintIdShape,
  validateDescription,
  validateHeaders,
  validateName,
  validateTriggers,
  validateUrl,
} from './webhook.validation';

/** Runs `fn`, expects a BAD_USER_INPUT AppError, and returns it. */
function rejection(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.BAD_USER_INPUT);
    return error as AppError;
  }
  throw new Error('expected BAD_USER_INPUT, nothing was thrown');
}

/** The message is `<field>: <rule>` so a form can place it; both parts are checked. */
function expectRejected(fn: () => unknown, field: string, rule: RegExp): void {
  const error = rejection(fn);
  expect(error.field).toBe(field);
  expect(error.message.startsWith(`${field}: `)).toBe(true);
  expect(error.message.slice(field.length + 2)).toMatch(rule);
}

const VISIBLE = /^must be visible ASCII characters, spaces and tabs$/;
const EDGE_SPACE = /^must not start or end with a space or tab/;

const UUID_A = '0b9f3c1e-4a5d-4e6f-8a7b-9c0d1e2f3a4b';
const UUID_B = '1c0a4d2f-5b6e-4f70-9b8c-0d1e2f3a4b5c';

describe('validateName', () => {
  test.each([
    ['a', 'a'],
    ['  padded  ', 'padded'],
    ['x'.repeat(200), 'x'.repeat(200)],
    [`  ${'x'.repeat(200)}  `, 'x'.repeat(200)],
  ])('accepts %j', (input, expected) => {
    expect(validateName(input)).toBe(expected);
  });

  test.each([
    ['empty', ''],
    ['whitespace only', '   \t '],
    ['201 characters', 'x'.repeat(201)],
  ])('rejects %s', (_label, input) => {
    expectRejected(() => validateName(input), 'input.name', /1 to 200 characters/);
  });

  test('names the field given', () => {
    expectRejected(() => validateName('', 'input.other'), 'input.other', /1 to 200/);
  });
});

describe('validateDescription', () => {
  test.each([
    [null, null],
    [undefined, null],
    ['', ''],
    ['d'.repeat(LIMITS.descriptionMax), 'd'.repeat(LIMITS.descriptionMax)],
  ])('accepts %p', (input, expected) => {
    expect(validateDescription(input)).toBe(expected);
  });

  test('rejects 2001 characters', () => {
    expectRejected(() => validateDescription('d'.repeat(2001)), 'input.description', /at most 2000 characters/);
  });
});

describe('validateUrl', () => {
  const exactly = (n: number) => {
    const base = 'https://example.test/';
    return base + 'a'.repeat(n - base.length);
  };

  test.each([
    'https://example.test/hook',
    'http://example.test',
    'https://example.test:8443/a/b?c=d#e',
    'http://127.0.0.1:9000/x',
    'http://[::1]:9000/x',
    'HTTPS://EXAMPLE.TEST/upper',
  ])('accepts %s', (url) => {
    expect(validateUrl(url)).toBe(url);
  });

  test('accepts exactly 2048 characters', () => {
    expect(exactly(2048)).toHaveLength(2048);
    expect(validateUrl(exactly(2048))).toBe(exactly(2048));
  });

  test.each<[string, string, RegExp]>([
    ['2049 characters', exactly(2049), /at most 2048 characters/],
    ['relative path', '/hook', /absolute http:\/\/ or https:\/\/ URL/],
    ['host without scheme', 'example.test/hook', /absolute/],
    ['empty', '', /absolute/],
    ['scheme only', 'https://', /absolute/],
    ['ftp', 'ftp://example.test/file', /http or https/],
    ['file', 'file:///etc/passwd', /http or https/],
    ['javascript', 'javascript:alert(1)', /http or https/],
    ['mailto', 'mailto:a@example.test', /http or https/],
    ['user and password', 'https://user:pass@example.test/hook', /credentials/],
    ['user only', 'https://user@example.test/hook', /credentials/],
    ['password only', 'https://:pass@example.test/hook', /credentials/],
  ])('rejects %s', (_label, url, rule) => {
    expectRejected(() => validateUrl(url), 'input.url', rule);
  });
});

describe('validateTriggers', () => {
  test('accepts one or several distinct triggers, in order', () => {
    expect(validateTriggers(['document_create'])).toEqual(['document_create']);
    expect(validateTriggers(['document_create', 'document_update'])).toEqual(['document_create', 'document_update']);
  });

  test('rejects an empty list', () => {
    expectRejected(() => validateTriggers([]), 'input.triggers', /at least one trigger/);
  });

  test('rejects a duplicate, naming the second occurrence', () => {
    expectRejected(() => validateTriggers(['document_create', 'document_update', 'document_create']), 'input.triggers[2]', /listed twice/);
  });
});

describe('isSendableHeader', () => {
  test('is what the API accepts: a token name and a trimmed visible-ASCII value', () => {
    expect(isSendableHeader('X-Key', 'a b\tc')).toBe(true);
    expect(isSendableHeader('__proto__', '')).toBe(true);
    for (const [name, value] of [['X Key', 'v'], ['X-Key', 'caf\u00e9'], ['X-Key', 'a\x01'], ['X-Key', ' v'], ['X-Key', 'v\t'], ['', 'v']]) {
      expect(isSendableHeader(name, value)).toBe(false);
    }
  });
});

describe('validateHeaders', () => {
  const h = (name: string, value: string | null = 'v', secret?: boolean): HeaderInput => ({ name, value, ...(secret === undefined ? {} : { secret }) });

  test('accepts an empty list', () => {
    expect(validateHeaders([], null)).toEqual([]);
  });

  test('keeps the name as given and defaults secret to false', () => {
    expect(validateHeaders([h('X-Api-Key', 'abc'), h('X-Secret', 'def', true)], null)).toEqual([
      { name: 'X-Api-Key', value: 'abc', secret: false },
      { name: 'X-Secret', value: 'def', secret: true },
    ]);
  });

  test.each([
    ['50 headers', 50],
    ['RFC 9110 token punctuation', 1],
  ])('accepts %s', (label, count) => {
    const list = label.startsWith('RFC')
      ? [h("X!#$%&'*+-.^_`|~09az")]
      : Array.from({ length: count }, (_, i) => h(`X-H${i}`));
    expect(validateHeaders(list, null)).toHaveLength(list.length);
  });

  test('accepts every visible ASCII character, inner spaces and tabs, and an empty value', () => {
    const visible = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
    expect(validateHeaders([h('X-A', visible), h('X-B', 'a b\tc'), h('X-C', '')], null).map((x) => x.value)).toEqual([visible, 'a b\tc', '']);
  });

  test('names that are object keys elsewhere are ordinary tokens here', () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '123'];
    expect(validateHeaders(names.map((n) => h(n)), null).map((x) => x.name)).toEqual(names);
  });

  test('accepts a name of 256 characters and a value of 4096', () => {
    expect(validateHeaders([h('x'.repeat(256), 'v'.repeat(4096))], null)).toHaveLength(1);
  });

  test('rejects 51 headers', () => {
    const list = Array.from({ length: 51 }, (_, i) => h(`X-H${i}`));
    expectRejected(() => validateHeaders(list, null), 'input.headers', /at most 50 headers/);
  });

  test.each<[string, HeaderInput[], string, RegExp]>([
    ['a space in the name', [h('X-Ok'), h('X Bad')], 'input.headers[1].name', /RFC 9110 token/],
    ['a colon in the name', [h('X-Bad:')], 'input.headers[0].name', /RFC 9110 token/],
    ['a non-ASCII name', [h('X-Ünïcode')], 'input.headers[0].name', /RFC 9110 token/],
    ['an empty name', [h('')], 'input.headers[0].name', /RFC 9110 token/],
    ['a 257-character name', [h('x'.repeat(257))], 'input.headers[0].name', /at most 256 characters/],
    ['a 4097-character value', [h('X-A', 'v'.repeat(4097))], 'input.headers[0].value', /at most 4096 characters/],
    ['CR in the value', [h('X-A', 'a\rb')], 'input.headers[0].value', VISIBLE],
    ['LF in the value', [h('X-A', 'a\nInjected: 1')], 'input.headers[0].value', VISIBLE],
    ['NUL in the value', [h('X-A', 'a\0b')], 'input.headers[0].value', VISIBLE],
    ['\\x01 in the value', [h('X-A', 'a\x01b')], 'input.headers[0].value', VISIBLE],
    ['DEL in the value', [h('X-A', 'a\x7fb')], 'input.headers[0].value', VISIBLE],
    ['Latin-1 in the value', [h('X-A', 'café')], 'input.headers[0].value', VISIBLE],
    ['a character beyond Latin-1 in the value', [h('X-A', 'price €5')], 'input.headers[0].value', VISIBLE],
    ['an emoji in the value', [h('X-A', 'ok 😀')], 'input.headers[0].value', VISIBLE],
    ['a leading space in the value', [h('X-A', ' token')], 'input.headers[0].value', EDGE_SPACE],
    ['a trailing tab in the value', [h('X-A', 'token\t')], 'input.headers[0].value', EDGE_SPACE],
    ['a value of only a space', [h('X-A', ' ')], 'input.headers[0].value', EDGE_SPACE],
    ['duplicate names differing in case', [h('X-Key'), h('x-key')], 'input.headers[1].name', /duplicates.*case-insensitive/],
    ['a missing value on create', [h('X-Key', null)], 'input.headers[0].value', /is required/],
  ])('rejects %s', (_label, list, field, rule) => {
    expectRejected(() => validateHeaders(list, null), field, rule);
  });

  const reserved = [
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'user-agent',
    'content-type',
    'host',
    'content-length',
    'transfer-encoding',
    'connection',
  ];

  test.each(reserved.flatMap((name) => [name, name.toUpperCase(), name.replace(/(^|-)([a-z])/g, (_m, d, c) => d + c.toUpperCase())]))(
    'rejects the reserved name %s',
    (name) => {
      expectRejected(() => validateHeaders([h(name)], null), 'input.headers[0].name', /set by the webhook sender/);
    },
  );

  test('the contract reserved names are all in RESERVED_HEADERS', () => {
    for (const name of reserved) expect(RESERVED_HEADERS.has(name)).toBe(true);
  });

  describe('on update (stored headers given)', () => {
    const stored: StoredHeader[] = [
      { name: 'X-Token', value: 'stored-secret-value-3gat', secret: true },
      { name: 'X-Plain', value: 'plain', secret: false },
    ];

    test('a header without value keeps the stored value and secret flag, matched case-insensitively', () => {
      expect(validateHeaders([{ name: 'x-token' }, { name: 'X-Plain', value: null }], stored)).toEqual([
        { name: 'x-token', value: 'stored-secret-value-3gat', secret: true },
        { name: 'X-Plain', value: 'plain', secret: false },
      ]);
    });

    test('a header without value and secret: true keeps the stored value', () => {
      expect(validateHeaders([{ name: 'X-Token', secret: true }], stored)).toEqual([{ name: 'X-Token', value: 'stored-secret-value-3gat', secret: true }]);
    });

    test('a new value replaces the stored one', () => {
      expect(validateHeaders([{ name: 'X-Token', value: 'new', secret: true }], stored)).toEqual([{ name: 'X-Token', value: 'new', secret: true }]);
    });

    test('headers left out are dropped (the list replaces)', () => {
      expect(validateHeaders([{ name: 'X-Plain' }], stored)).toEqual([{ name: 'X-Plain', value: 'plain', secret: false }]);
    });

    test('a new header without value is rejected', () => {
      expectRejected(() => validateHeaders([{ name: 'X-Token' }, { name: 'X-New' }], stored), 'input.headers[1].value', /required for a header that is not stored yet/);
    });

    test('a stored value is still checked against the rules of its new name', () => {
      expectRejected(() => validateHeaders([{ name: 'Host' }], [{ name: 'host', value: 'x', secret: false }]), 'input.headers[0].name', /set by the webhook sender/);
    });
  });
});

describe('validateBlueprintIdShape', () => {
  test('lower-cases valid UUIDs and keeps the order', () => {
    expect(validateBlueprintIdShape([UUID_B, UUID_A.toUpperCase()])).toEqual([UUID_B, UUID_A]);
  });

  test.each<[string, string[], string, RegExp]>([
    ['an empty list', [], 'input.blueprintIds', /at least one blueprint, or be null/],
    ['a non-UUID', [UUID_A, 'not-a-uuid'], 'input.blueprintIds[1]', /must be a UUID/],
    ['a number', ['42'], 'input.blueprintIds[0]', /must be a UUID/],
    ['a duplicate (any case)', [UUID_A, UUID_A.toUpperCase()], 'input.blueprintIds[1]', /listed twice/],
  ])('rejects %s', (_label, ids, field, rule) => {
    expectRejected(() => validateBlueprintIdShape(ids), field, rule);
  });
});
