import { buildSchema, execute, parse, subscribe } from 'graphql';
import { AppError } from '../common/app-error';
import { findUnstorableText, guardArgumentText, unstorableTextRule } from './input-guard';

describe('unstorableTextRule', () => {
  test('refuses U+0000 and unpaired surrogates, accepts every other character', () => {
    expect(unstorableTextRule('a\u0000b')).toBe('must not contain U+0000');
    for (const lone of ['\ud800', 'a\udbffb', '\udc00', 'x\udfff', '\ud83d', '\ude00\ud83d']) {
      expect(unstorableTextRule(lone)).toBe('must be valid Unicode (unpaired surrogate)');
    }
    for (const fine of ['', 'plain', 'é€ مرحبا', '😀', '\ud83d\ude00\ud83d\ude00', '\u0001\u007f\r\n', '\uffff']) {
      expect(unstorableTextRule(fine)).toBeNull();
    }
  });
});

describe('findUnstorableText', () => {
  test('names the path of the first bad string: input fields, list items, JSON members', () => {
    const input = { name: 'ok', headers: [{ name: 'a', value: 'b' }, { name: 'c', value: 'd' }, { name: 'e', value: 'f\u0000' }] };
    expect(findUnstorableText(input, 'input')).toEqual({ field: 'input.headers[2].value', rule: 'must not contain U+0000' });
    expect(findUnstorableText({ fields: { body: ['x', { y: 'z\ud800' }] } }, 'input')).toEqual({
      field: 'input.fields.body[1].y',
      rule: 'must be valid Unicode (unpaired surrogate)',
    });
    expect(findUnstorableText('\u0000', 'name')).toEqual({ field: 'name', rule: 'must not contain U+0000' });
  });

  test('checks object keys too, and escapes odd keys in the path', () => {
    expect(findUnstorableText({ fields: { 'k\u0000': 1 } }, 'input')).toEqual({
      field: 'input.fields["k\\u0000"]',
      rule: 'names a key that must not contain U+0000',
    });
    expect(findUnstorableText({ 'my key': 'v\u0000' }, 'f')).toEqual({ field: 'f["my key"]', rule: 'must not contain U+0000' });
  });

  test('reports in document order, and nothing for clean values of any type', () => {
    expect(findUnstorableText({ a: 'x\u0000', b: 'y\ud800' }, 'i')?.field).toBe('i.a');
    expect(findUnstorableText({ a: 1, b: null, c: true, d: new Date(0), e: [[], {}], f: 'é😀' }, 'i')).toBeNull();
    expect(findUnstorableText(undefined, 'i')).toBeNull();
  });

  test('walks a value nested 100,000 deep without overflowing the stack', () => {
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? { a: deep } : [deep];
    const found = findUnstorableText(deep, 'v');
    expect(found?.rule).toBe('must not contain U+0000');
    // The path is cut short rather than spelled out a hundred thousand levels deep.
    expect(found?.field).toMatch(/^v\.a\[0\]\.a\[0\].*…$/);
    expect(found!.field.length).toBeLessThan(220);
  });
});

describe('guardArgumentText', () => {
  const schema = guardArgumentText(
    buildSchema(`
      input Item { label: String, data: [String!] }
      type Query { echo(text: String, items: [Item!]): String, plain: String }
      type Subscription { ticks(topic: String!): String }
    `),
  );
  const rootValue = { echo: (args: { text?: string }) => `echo:${args.text ?? ''}`, plain: () => 'plain' };

  test('refuses a bad literal or variable with BAD_USER_INPUT naming the argument path; good input reaches the resolver', async () => {
    const literal = await execute({ schema, rootValue, document: parse('{ echo(text: "a\\u0000") }') });
    expect(literal.errors?.[0].message).toBe('text: must not contain U+0000');
    expect(literal.errors?.[0].originalError).toBeInstanceOf(AppError);

    const variables = await execute({
      schema,
      rootValue,
      document: parse('query($i: [Item!]) { echo(items: $i) }'),
      variableValues: { i: [{ label: 'ok' }, { data: ['fine', 'bad\udc00'] }] },
    });
    expect(variables.errors?.[0].message).toBe('items[1].data[1]: must be valid Unicode (unpaired surrogate)');
    expect(variables.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'items[1].data[1]' });

    const good = await execute({ schema, rootValue, document: parse('{ echo(text: "fine 😀") plain }') });
    expect(good).toEqual({ data: { echo: 'echo:fine 😀', plain: 'plain' } });
  });

  test('guards subscriptions before their stream starts, with the code on the error itself', async () => {
    let started = 0;
    const subscriptionRoot = {
      ticks: async function* () {
        started += 1;
        yield { ticks: 'tick' };
      },
    };
    const result = await subscribe({ schema, rootValue: subscriptionRoot, document: parse('subscription { ticks(topic: "t\\u0000") }') });
    expect('errors' in result && result.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'topic' });
    expect(started).toBe(0);
  });
});
