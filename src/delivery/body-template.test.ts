import fc from 'fast-check';
import { AppError } from '../common/app-error';
import { WebhookTrigger } from '../webhooks/triggers';
import { buildBody, templateScope } from './body';
import { BodyFormat, compileTemplate, placeholderList, renderTemplate, TemplateError, validateContentType, validateTemplate } from './body-template';
import { buildPayloadBody, sampleEvent } from './payload';

const WEBHOOK = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const event = sampleEvent(WebhookTrigger.DOCUMENT_FIELD_UPDATE, PROJECT, { triggeredUserId: '33333333-3333-4333-8333-333333333333' });
const facts = { context: { document: { title: 'Hello "world"' } }, projectName: 'Blog', blueprint: { name: 'Post', api_name: 'post' } };
const scope = templateScope(event, WEBHOOK, facts);

/** Whether a string value (keys are literal) holds `{{` or `{%`. */
const markupInValues = (v: unknown): boolean =>
  typeof v === 'string' ? /\{[{%]/.test(v) : v !== null && typeof v === 'object' ? Object.values(v).some(markupInValues) : false;

const render = (template: string, format = BodyFormat.JSON) => renderTemplate(compileTemplate(template, format), scope);
const refusal = (template: string, format = BodyFormat.JSON): string => {
  try {
    compileTemplate(template, format);
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${template}`);
};

describe('JSON templates', () => {
  test('a string that is one placeholder keeps the JSON type of its value', () => {
    const body = JSON.parse(render('{"s": "{{ metadata.document_status_id }}", "f": "{{changed_fields}}", "m": "{{ metadata }}", "n": "{{ triggered_user_id }}"}'));
    expect(body.s).toBe(1);
    expect(body.f).toEqual(['title']);
    expect(body.m).toEqual(JSON.parse(buildPayloadBody(event, WEBHOOK)).metadata);
    expect(body.n).toBe('33333333-3333-4333-8333-333333333333');
  });

  test('any other string interpolates values as text, escaped as JSON needs', () => {
    const body = JSON.parse(render('{"text": "Doc {{ document.title }} is {{ document.status }} ({{ metadata.document_status_id }}) in {{ project.name }}: {{ changed_fields }}"}'));
    expect(body.text).toBe('Doc Hello "world" is CHANGED (1) in Blog: ["title"]');
  });

  test('a missing value is null when typed and nothing when interpolated', () => {
    const member = sampleEvent(WebhookTrigger.PROJECT_MEMBER_ASSIGNED, PROJECT);
    const memberScope = templateScope(member, WEBHOOK, { context: null, projectName: 'Blog', blueprint: null });
    const body = JSON.parse(renderTemplate(compileTemplate('{"t": "{{ document.title }}", "x": "[{{ document.title }}]"}', BodyFormat.JSON), memberScope));
    expect(body).toEqual({ t: null, x: '[]' });
  });

  test('the whole payload is one placeholder, and filters apply', () => {
    const body = JSON.parse(render('{"event_type": "cms.{{ webhook.trigger }}", "client_payload": "{{ payload }}", "u": "{{ blueprint.api_name | upcase }}", "d": "{{ document.missing_nothing | default: \\"none\\" }}"}'.replace('document.missing_nothing', 'document.title')));
    expect(body.event_type).toBe('cms.document_field_update');
    expect(body.client_payload).toEqual(JSON.parse(buildPayloadBody(event, WEBHOOK)));
    expect(body.u).toBe('POST');
    expect(body.d).toBe('Hello "world"');
  });

  test('without placeholders a template renders to itself', () => {
    fc.assert(
      fc.property(fc.jsonValue().filter((v) => !markupInValues(v)), (value) => {
        const rendered = JSON.parse(render(JSON.stringify(value)));
        // -0 has no JSON spelling of its own.
        expect(rendered).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  test('a string that is one placeholder keeps any value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom('payload', 'metadata', 'document', 'project'), (value, name) => {
        const s = { ...scope, [name]: value };
        const rendered = JSON.parse(renderTemplate(compileTemplate(`{"v": "{{ ${name} }}"}`, BodyFormat.JSON), s));
        expect(rendered.v).toEqual(JSON.parse(JSON.stringify(value)) ?? null);
      }),
    );
  });
});

describe('TEXT templates', () => {
  test('interpolates every placeholder as text', () => {
    expect(render('{{ document.title }} ({{ blueprint.name }}) {{ document.status_id }} {{ changed_fields | join: "," }}', BodyFormat.TEXT)).toBe(
      'Hello "world" (Post) 1 title',
    );
  });

  test('a template that is one placeholder still renders text', () => {
    expect(render('{{ changed_fields }}', BodyFormat.TEXT)).toBe('["title"]');
  });
});

describe('refused templates', () => {
  test('invalid JSON', () => {
    expect(refusal('{"a": }')).toMatch(/^must be valid JSON/);
  });

  test.each([
    ['{"a": "{{ document.titel }}"}', 'document.titel'],
    ['{"a": "x {{ metadata.nope }}"}', 'metadata.nope'],
    ['{"a": "{{ changed_fields.nope }}"}', 'changed_fields.nope'],
    ['{"a": "{{ constructor }}"}', 'constructor'],
    ['{"a": "{{ x | default: secret }}"}', 'x'],
  ])('an unknown placeholder is named: %s', (template, name) => {
    expect(refusal(template)).toContain(`unknown placeholder "${name}"`);
  });

  test.each([
    ['{% include "/etc/passwd" %}', 'tags'],
    ['{% for i in (1..100000000) %}x{% endfor %}', 'tags'],
    ['{% assign a = 1 %}', 'tags'],
    ['{{ "x" | prepend: "y" | nosuch }}', 'filter'],
    ['{{ "x" | date: "%s" }}', 'filter "date"'],
    ['{{ (1..100000000) | join }}', 'may only hold'],
  ])('tags, filters outside the list and ranges: %s', (template, message) => {
    expect(refusal(template, BodyFormat.TEXT)).toContain(message);
  });

  test('keys are taken as written', () => {
    expect(JSON.parse(render('{"{{ event_id }}": "{{ event_id }}"}'))).toEqual({ '{{ event_id }}': event.id });
  });

  test('over 16 KiB', () => {
    expect(refusal(JSON.stringify({ a: 'x'.repeat(16 * 1024) }))).toContain('16 KiB');
  });

  test('as API input: BAD_USER_INPUT naming the field and the placeholder', () => {
    expect(() => validateTemplate('{"a": "{{ nope }}"}', BodyFormat.JSON)).toThrow(AppError);
    expect(() => validateTemplate('{"a": "{{ nope }}"}', BodyFormat.JSON)).toThrow(/^input\.bodyTemplate: unknown placeholder "nope"/);
  });

  test('the list of placeholders names the documented ones', () => {
    expect(placeholderList()).toEqual(
      expect.arrayContaining(['event_id', 'metadata.document_id', 'webhook.trigger', 'changed_fields', 'triggered_user_id', 'document.title', 'document.status', 'blueprint.name', 'blueprint.api_name', 'project.name']),
    );
  });
});

describe('rendering', () => {
  test('a body over 256 KiB fails with a reason instead of being sent', () => {
    const big = { ...scope, document: { title: 'x'.repeat(200 * 1024) } };
    const compiled = compileTemplate('{"a": "{{ document.title }}", "b": "{{ document.title }}"}', BodyFormat.JSON);
    expect(() => renderTemplate(compiled, big)).toThrow('256 KiB');
  });

  test('buildBody: no template is the contract payload; a failed render is an error, not an exception', () => {
    expect(buildBody({ bodyTemplate: null, bodyFormat: BodyFormat.JSON, bodyContentType: null }, event, WEBHOOK, null)).toEqual({
      body: buildPayloadBody(event, WEBHOOK),
      contentType: 'application/json',
      error: null,
    });
    const text = buildBody({ bodyTemplate: '{{ project.name }}', bodyFormat: BodyFormat.TEXT, bodyContentType: null }, event, WEBHOOK, facts);
    expect(text).toEqual({ body: 'Blog', contentType: 'text/plain; charset=utf-8', error: null });
    const failed = buildBody({ bodyTemplate: '{"a": "{{ nope }}"}', bodyFormat: BodyFormat.JSON, bodyContentType: null }, event, WEBHOOK, facts);
    expect(failed.error).toMatch(/^body template: unknown placeholder "nope"/);
  });
});

describe('content types', () => {
  test.each([
    ['text/plain; charset=utf-8', BodyFormat.TEXT],
    ['application/x-www-form-urlencoded', BodyFormat.TEXT],
    ['application/vnd.github+json', BodyFormat.JSON],
    ['application/json; charset="utf-8"', BodyFormat.JSON],
  ])('accepts %s for %s', (value, format) => {
    expect(validateContentType(value, format)).toBe(value);
  });

  test.each([
    ['text/plain\r\nx-evil: 1', BodyFormat.TEXT],
    ['text', BodyFormat.TEXT],
    ['text/plain', BodyFormat.JSON],
  ])('refuses %j for %s', (value, format) => {
    expect(() => validateContentType(value, format)).toThrow(/^input\.bodyContentType: /);
  });
});
