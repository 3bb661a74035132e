import { useQuery } from '@apollo/client/react';
import { type FormEvent, useState } from 'react';
import { problemsOf, type Problem } from '../api/errors';
import { ErrorNotice } from '../common/ErrorNotice';
import { BlueprintsDocument, type HttpMethod } from '../generated/graphql';
import { describedBy, FieldError } from './FieldError';
import { BodyTemplateEditor } from './BodyTemplateEditor';
import { FiltersEditor } from './FiltersEditor';
import { type BodySettings, fieldId, type FormState, type FormWebhook, initialState, splitProblems, toInput } from './form-model';
import { HeadersEditor } from './HeadersEditor';
import { METHODS, TRIGGERS } from './triggers';

export type WebhookFormInput = ReturnType<typeof toInput>;

/**
 * Create and edit share this form. It checks nothing itself: the server validates, and its
 * BAD_USER_INPUT is shown beside the field that `extensions.field` names, which then gets focus.
 */
export function WebhookForm({ projectId, webhook, body, submitLabel = 'Save', onSubmit }: { projectId: string; webhook?: FormWebhook | null; body?: BodySettings | null; submitLabel?: string; onSubmit: (input: WebhookFormInput) => Promise<FormWebhook | void> }) {
  const [state, setState] = useState<FormState>(() => initialState(webhook, body));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const blueprints = useQuery(BlueprintsDocument, { variables: { projectId } });
  const set = (patch: Partial<FormState>) => {
    setSaved(false);
    setState((s) => ({ ...s, ...patch }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setSaved(false);
    try {
      const stored = await onSubmit(toInput(state));
      // Saved secrets come back masked: the form shows what is stored now.
      // The body settings are not in the contract's WebhookFields: what was sent is what is stored.
      if (stored) setState((s) => ({ ...initialState(stored), body: s.body }));
      setErrors({});
      setGeneral([]);
      setSaved(true);
    } catch (error) {
      const split = splitProblems(problemsOf(error));
      setErrors(split.fields);
      setGeneral(split.general);
      const first = Object.keys(split.fields)[0];
      if (first) requestAnimationFrame(() => (document.getElementById(fieldId(first)) as HTMLElement | null)?.focus());
    } finally {
      setBusy(false);
    }
  };

  const toggle = <T,>(current: Set<T>, value: T, on: boolean) => {
    const next = new Set(current);
    if (on) next.add(value);
    else next.delete(value);
    return next;
  };

  return (
    <form className="webhook-form card" onSubmit={submit} noValidate aria-label={webhook ? 'Webhook settings' : 'New webhook'}>
      <ErrorNotice problems={general} />
      <div className="field">
        <label htmlFor="wh-name">Name</label>
        <input {...describedBy('wh-name', errors.name)} value={state.name} onChange={(e) => set({ name: e.target.value })} autoComplete="off" />
        <FieldError id="wh-name" message={errors.name} />
      </div>
      <div className="field">
        <label htmlFor="wh-description">Description</label>
        <textarea {...describedBy('wh-description', errors.description)} rows={2} value={state.description} onChange={(e) => set({ description: e.target.value })} />
        <FieldError id="wh-description" message={errors.description} />
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="wh-method">Method</label>
          <select {...describedBy('wh-method', errors.method)} value={state.method} onChange={(e) => set({ method: e.target.value as HttpMethod })}>
            {METHODS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
          <FieldError id="wh-method" message={errors.method} />
        </div>
        <div className="field grow">
          <label htmlFor="wh-url">URL</label>
          <input {...describedBy('wh-url', errors.url, 'wh-url-help')} inputMode="url" spellCheck={false} autoComplete="off" placeholder="https://example.com/hooks/cms" value={state.url} onChange={(e) => set({ url: e.target.value })} />
          <p id="wh-url-help" className="help">
            Every method sends the event as a JSON body, or the body template below. Only public addresses are called.
          </p>
          <FieldError id="wh-url" message={errors.url} />
        </div>
      </div>

      <fieldset id="wh-triggers" tabIndex={-1} aria-describedby={errors.triggers ? 'wh-triggers-error' : undefined}>
        <legend>Actions</legend>
        <FieldError id="wh-triggers" message={errors.triggers} />
        <ul className="triggers">
          {TRIGGERS.map((t) => (
            <li key={t.value}>
              <input id={`trigger-${t.value}`} type="checkbox" checked={state.triggers.has(t.value)} aria-describedby={`trigger-${t.value}-when`} onChange={(e) => set({ triggers: toggle(state.triggers, t.value, e.target.checked) })} />
              <label htmlFor={`trigger-${t.value}`}>{t.label}</label>
              <p id={`trigger-${t.value}-when`} className="help">
                Event sent when: {t.sentWhen}
              </p>
            </li>
          ))}
        </ul>
      </fieldset>

      <fieldset id="wh-blueprints" tabIndex={-1} aria-describedby={errors.blueprintIds ? 'wh-blueprints-error' : undefined}>
        <legend>Blueprints</legend>
        <FieldError id="wh-blueprints" message={errors.blueprintIds} />
        <div className="field inline">
          <input id="bp-all" type="radio" name="bp-mode" checked={state.allBlueprints} onChange={() => set({ allBlueprints: true })} />
          <label htmlFor="bp-all">All blueprints</label>
        </div>
        <div className="field inline">
          <input id="bp-some" type="radio" name="bp-mode" checked={!state.allBlueprints} onChange={() => set({ allBlueprints: false })} />
          <label htmlFor="bp-some">Only the blueprints chosen below</label>
        </div>
        <p className="help">Only events of documents of these blueprints, and of the blueprints themselves, are sent. Member events always are.</p>
        <ErrorNotice error={blueprints.error} />
        {!state.allBlueprints && blueprints.data && blueprints.data.blueprints.length === 0 && <p className="muted">This project has no blueprints yet.</p>}
        {!state.allBlueprints && (
          <ul className="blueprints">
            {blueprints.data?.blueprints.map((b) => (
              <li key={b.id} className="field inline">
                <input id={`bp-${b.id}`} type="checkbox" checked={state.blueprintIds.has(b.id)} onChange={(e) => set({ blueprintIds: toggle(state.blueprintIds, b.id, e.target.checked) })} />
                <label htmlFor={`bp-${b.id}`}>
                  {b.name} <code>{b.apiName}</code>
                </label>
              </li>
            ))}
          </ul>
        )}
      </fieldset>

      <FiltersEditor projectId={projectId} state={state} set={set} errors={errors} />

      <HeadersEditor rows={state.headers} onChange={(headers) => set({ headers })} errors={errors} />

      <BodyTemplateEditor webhookId={webhook?.id ?? null} body={state.body} onChange={(patch) => set({ body: { ...state.body, ...patch } })} errors={errors} />

      <div className="field">
        <div className="field inline">
          <input {...describedBy('wh-fifo', errors.fifo, 'wh-fifo-help')} type="checkbox" checked={state.fifo} onChange={(e) => set({ fifo: e.target.checked })} />
          <label htmlFor="wh-fifo">Deliver in order (FIFO)</label>
        </div>
        <p id="wh-fifo-help" className="help">
          One request at a time, in the order events happened: slower, and a failing call holds back the ones after it until it succeeds or is given up (up to the whole retry schedule).
        </p>
        <FieldError id="wh-fifo" message={errors.fifo} />
      </div>

      <div className="actions">
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
        <span role="status" className="saved">
          {saved ? 'Saved' : ''}
        </span>
      </div>
    </form>
  );
}
