import { ERROR_CLASSES, errorClass, OperationNames } from './classify';

describe('errorClass', () => {
  const failed = (errorCode: string | null, statusCode: number | null = null) => errorClass({ success: false, errorCode, statusCode });

  it('is none for a success, whatever else the result says', () => {
    expect(errorClass({ success: true, errorCode: null, statusCode: 204 })).toBe('none');
  });

  it('classes a receiver answer by its status family', () => {
    expect(failed('status', 400)).toBe('http_4xx');
    expect(failed('status', 429)).toBe('http_4xx');
    expect(failed('status', 500)).toBe('http_5xx');
    expect(failed('status', 503)).toBe('http_5xx');
    expect(failed('status', 101)).toBe('http_1xx');
    expect(failed('status', 600)).toBe('http_other');
    expect(failed('status', null)).toBe('http_other');
  });

  it('keeps what went wrong before an answer', () => {
    for (const code of ['timeout', 'refused', 'reset', 'dns', 'blocked', 'redirect'] as const) expect(failed(code, code === 'redirect' ? 302 : null)).toBe(code);
  });

  it('maps anything else to other, never to the text it was given', () => {
    expect(failed('other')).toBe('other');
    expect(failed('something-new')).toBe('other');
    expect(failed(null)).toBe('other');
  });

  it('only ever returns a value from the fixed set', () => {
    const codes = ['timeout', 'refused', 'reset', 'dns', 'blocked', 'redirect', 'status', 'other', null, 'x'];
    for (const code of codes) for (const status of [null, 0, 99, 204, 302, 404, 502, 999]) {
      expect(ERROR_CLASSES).toContain(errorClass({ success: false, errorCode: code, statusCode: status }));
    }
  });
});

describe('OperationNames', () => {
  const known = new Set(['Webhooks', 'CreateWebhook']);

  it('counts known names by name, always', () => {
    const names = new OperationNames(known, 0);
    expect(names.label('Webhooks')).toBe('Webhooks');
    expect(names.label('Invented')).toBe('other');
    expect(names.label('CreateWebhook')).toBe('CreateWebhook');
  });

  it('counts up to `cap` other names by name, then every new one as other', () => {
    const names = new OperationNames(known, 2);
    expect(names.label('A')).toBe('A');
    expect(names.label('B')).toBe('B');
    expect(names.label('C')).toBe('other');
    expect(names.label('A')).toBe('A'); // already counted by name: stays so
    expect(names.label('Webhooks')).toBe('Webhooks'); // a flood cannot push a known name out
  });

  it('keeps a flood of invented names to cap + 1 distinct labels', () => {
    const names = new OperationNames(known, 10);
    const labels = new Set(Array.from({ length: 10_000 }, (_, i) => names.label(`Op${i}`)));
    expect(labels.size).toBe(11);
  });

  it('names the cases with no name', () => {
    const names = new OperationNames(known);
    expect(names.label(null)).toBe('anonymous');
    expect(names.label('')).toBe('anonymous');
    expect(names.label(undefined)).toBe('unknown');
  });

  it('never uses something that is not a GraphQL name', () => {
    const names = new OperationNames(known);
    expect(names.label('8c1e0f3a-1b2c-4d5e-8f90-123456789abc')).toBe('other');
    expect(names.label('a b')).toBe('other');
    expect(names.label('x'.repeat(101))).toBe('other');
  });
});
