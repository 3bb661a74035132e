import { useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { problemsOf, ruleOf } from '../api/errors';
import { PreviewWebhookBodyDocument, type WebhookBodyFormat } from '../generated/graphql';
import { describedBy, FieldError } from './FieldError';
import { bodyInput, type BodyState, DEFAULT_CONTENT_TYPES } from './form-model';

const PLACEHOLDERS = '{{ document.title }}, {{ document.status }}, {{ blueprint.name }}, {{ project.name }}, {{ changed_fields }}, {{ payload }}';

/** `value`, once it has stopped changing for `ms`: the preview asks the server per pause, not per key. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function pretty(body: string, contentType: string): string {
  if (!/json/i.test(contentType)) return body;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/**
 * The body template fields and a live preview: the server renders the form's draft (saved or
 * not) against a sample event of the webhook's first action, with the same code that renders
 * deliveries, so the preview is what would be sent. A new webhook has nothing to render
 * against until it is saved.
 */
export function BodyTemplateEditor({ webhookId, body, onChange, errors }: { webhookId: string | null; body: BodyState; onChange: (patch: Partial<BodyState>) => void; errors: Record<string, string> }) {
  const draft = useSettled(body, 300);
  const preview = useQuery(PreviewWebhookBodyDocument, {
    variables: { webhookId: webhookId ?? '', draft: bodyInput(draft) },
    skip: !webhookId,
    fetchPolicy: 'network-only',
  });
  const shown = preview.data ?? preview.previousData;
  const problem = problemsOf(preview.error)[0];

  return (
    <fieldset id="wh-body" className="body-template">
      <legend>Body</legend>
      <div className="field-row">
        <div className="field">
          <label htmlFor="wh-body-format">Format</label>
          <select {...describedBy('wh-body-format', errors.bodyFormat)} value={body.format} onChange={(e) => onChange({ format: e.target.value as WebhookBodyFormat })}>
            <option value="JSON">JSON</option>
            <option value="TEXT">Text</option>
          </select>
          <FieldError id="wh-body-format" message={errors.bodyFormat} />
        </div>
        <div className="field grow">
          <label htmlFor="wh-body-content-type">Content type</label>
          <input {...describedBy('wh-body-content-type', errors.bodyContentType)} spellCheck={false} autoComplete="off" placeholder={DEFAULT_CONTENT_TYPES[body.format]} value={body.contentType} onChange={(e) => onChange({ contentType: e.target.value })} />
          <FieldError id="wh-body-content-type" message={errors.bodyContentType} />
        </div>
      </div>
      <div className="field">
        <label htmlFor="wh-body-template">Body template</label>
        <textarea
          {...describedBy('wh-body-template', errors.bodyTemplate, 'wh-body-template-help')}
          rows={8}
          spellCheck={false}
          placeholder="Empty: the standard payload (event_id, metadata, scope, webhook)"
          value={body.template}
          onChange={(e) => onChange({ template: e.target.value })}
        />
        <p id="wh-body-template-help" className="help">
          Placeholders such as {PLACEHOLDERS}. In JSON, a string that is one placeholder keeps the value's type; other strings get it as text.
        </p>
        <FieldError id="wh-body-template" message={errors.bodyTemplate} />
      </div>
      <div className="field">
        <span className="preview-label">Preview</span>
        {!webhookId && <p className="muted">The preview appears once the webhook is saved.</p>}
        {webhookId && problem && (
          <p id="wh-body-preview-error" className="field-error" role="alert">
            {problem.code === 'BAD_USER_INPUT' ? ruleOf(problem) : problem.message}
          </p>
        )}
        {webhookId && !problem && shown && (
          <>
            <p className="help">
              For a sample {shown.previewWebhookBody.trigger.toLowerCase()} event, sent as <code>{shown.previewWebhookBody.contentType}</code>
            </p>
            <pre className="code-block" aria-label="Body preview" aria-busy={preview.loading}>
              {pretty(shown.previewWebhookBody.body, shown.previewWebhookBody.contentType)}
            </pre>
          </>
        )}
      </div>
    </fieldset>
  );
}
