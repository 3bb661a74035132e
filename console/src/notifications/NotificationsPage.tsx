import { useMutation, useQuery } from '@apollo/client/react';
import { type FormEvent, useState } from 'react';
import { problemsOf, type Problem } from '../api/errors';
import { CopyButton } from '../common/CopyButton';
import { ErrorNotice } from '../common/ErrorNotice';
import { formatDuration } from '../common/format';
import { RoleNotice } from '../common/RoleNotice';
import { roleAtLeast } from '../common/roles';
import {
  ConsoleCreateNotificationEndpointDocument,
  ConsoleDeleteNotificationEndpointDocument,
  ConsoleNotificationEndpointsDocument,
  ConsoleRotateNotificationEndpointSecretDocument,
  ConsoleSendTestNotificationDocument,
  ConsoleUpdateNotificationEndpointDocument,
  type NotificationEndpointFieldsFragment,
  type WebhookHealthEventType,
} from '../generated/graphql';
import { useProject } from '../projects/project';
import { FieldError } from '../webhooks/FieldError';

const TYPES: Array<{ value: WebhookHealthEventType; label: string; when: string }> = [
  { value: 'WEBHOOK_FAILING', label: 'Failing', when: 'a webhook failed several calls in a row, or half of its calls in the last hour' },
  { value: 'WEBHOOK_DISABLE_WARNING', label: 'Disabled soon', when: 'every call has failed for long enough that it will be disabled within a day' },
  { value: 'WEBHOOK_DISABLED', label: 'Disabled', when: 'it was disabled automatically' },
  { value: 'WEBHOOK_RECOVERED', label: 'Recovered', when: 'a call succeeded again' },
];

function CreateEndpointForm({ projectId }: { projectId: string }) {
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [types, setTypes] = useState<WebhookHealthEventType[]>(TYPES.map((t) => t.value));
  const [headerName, setHeaderName] = useState('');
  const [headerValue, setHeaderValue] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [create, { loading }] = useMutation(ConsoleCreateNotificationEndpointDocument, { refetchQueries: [ConsoleNotificationEndpointsDocument] });
  const fieldError = (field: string) => problems.find((p) => p.field === field)?.message;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const headers = headerName.trim() ? [{ name: headerName.trim(), value: headerValue, secret: true }] : [];
      await create({ variables: { projectId, input: { url, name: name.trim() || null, types, headers } } });
      setUrl('');
      setName('');
      setHeaderName('');
      setHeaderValue('');
      setProblems([]);
    } catch (error) {
      setProblems(problemsOf(error));
    }
  };
  const toggle = (value: WebhookHealthEventType, on: boolean) => setTypes((list) => (on ? [...list, value] : list.filter((t) => t !== value)));

  return (
    <form className="panel endpoint-form" onSubmit={submit} aria-labelledby="new-endpoint-title">
      <h2 id="new-endpoint-title">Add a notification endpoint</h2>
      <label>
        URL
        <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} required aria-invalid={fieldError('input.url') ? true : undefined} />
      </label>
      <FieldError id="endpoint-url" message={fieldError('input.url')} />
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Notifications" />
      </label>
      <fieldset>
        <legend>Send</legend>
        {TYPES.map((t) => (
          <label key={t.value}>
            <input type="checkbox" checked={types.includes(t.value)} onChange={(e) => toggle(t.value, e.target.checked)} /> {t.label}
            <span className="muted"> when {t.when}</span>
          </label>
        ))}
      </fieldset>
      <FieldError id="endpoint-types" message={fieldError('input.types')} />
      <label>
        Secret header name (optional)
        <input value={headerName} onChange={(e) => setHeaderName(e.target.value)} placeholder="Authorization" />
      </label>
      <label>
        Secret header value
        <input type="password" value={headerValue} onChange={(e) => setHeaderValue(e.target.value)} autoComplete="off" />
      </label>
      <ErrorNotice problems={problems.filter((p) => !p.field || !['input.url', 'input.types'].includes(p.field))} />
      <button type="submit" disabled={loading}>
        Add endpoint
      </button>
    </form>
  );
}

const ignore = () => undefined; // each mutation's error is shown from its state
const COLUMNS = 6;

/**
 * One endpoint, and below it what its last action said: the outcome of a test notification,
 * or a rotated secret, shown in full only then (the previous one signs beside it for 24 hours).
 */
function EndpointRow({ endpoint }: { endpoint: NotificationEndpointFieldsFragment }) {
  const [update] = useMutation(ConsoleUpdateNotificationEndpointDocument);
  const [remove] = useMutation(ConsoleDeleteNotificationEndpointDocument, { refetchQueries: [ConsoleNotificationEndpointsDocument] });
  const [test, testState] = useMutation(ConsoleSendTestNotificationDocument);
  const [rotate, rotateState] = useMutation(ConsoleRotateNotificationEndpointSecretDocument);
  const [rotated, setRotated] = useState<string | null>(null);
  const labels = endpoint.types.map((t) => TYPES.find((x) => x.value === t)?.label ?? t).join(', ');
  const tested = testState.data?.sendTestNotification;
  const doRotate = async () => {
    try {
      const result = await rotate({ variables: { endpointId: endpoint.id } });
      setRotated(result.data!.rotateNotificationEndpointSecret.signingSecret);
    } catch {
      // shown by ErrorNotice
    }
  };
  const hasNews = tested || testState.error || rotated || rotateState.error;
  return (
    <>
      <tr>
        <th scope="row">{endpoint.name}</th>
        <td className="url">{endpoint.url}</td>
        <td>{labels}</td>
        <td>
          <span className={endpoint.enabled ? 'badge ok' : 'badge off'}>{endpoint.enabled ? 'Enabled' : 'Disabled'}</span>
          {endpoint.disabledReason && <span className="reason"> {endpoint.disabledReason}</span>}
        </td>
        <td>
          <code className="secret">{endpoint.signingSecret.slice(0, 10)}…</code> <CopyButton text={endpoint.signingSecret} label="Copy signing secret" />{' '}
          <button type="button" className="secondary" onClick={doRotate} disabled={rotateState.loading}>
            Rotate signing secret
          </button>
        </td>
        <td>
          <button type="button" onClick={() => test({ variables: { endpointId: endpoint.id } }).catch(ignore)} disabled={testState.loading}>
            Send test notification
          </button>{' '}
          <button type="button" className="secondary" onClick={() => void update({ variables: { id: endpoint.id, input: { enabled: !endpoint.enabled } } })}>
            {endpoint.enabled ? 'Disable' : 'Enable'}
          </button>{' '}
          <button type="button" className="secondary danger" onClick={() => void remove({ variables: { id: endpoint.id } })}>
            Delete
          </button>
        </td>
      </tr>
      {hasNews && (
        <tr className="endpoint-news">
          <td colSpan={COLUMNS}>
            <ErrorNotice error={testState.error} />
            {tested && (
              <p role="status" className={tested.success ? 'ok' : 'bad'}>
                Test notification to {endpoint.name} {tested.success ? 'delivered' : 'failed'}:{' '}
                {tested.responseStatusCode != null ? `HTTP ${tested.responseStatusCode}` : tested.error} in {formatDuration(tested.durationMs)}.
              </p>
            )}
            <ErrorNotice error={rotateState.error} />
            {rotated && (
              <div className="notice" role="status">
                <p className="notice-title">New signing secret of {endpoint.name} (shown in full only now)</p>
                <code className="secret">{rotated}</code> <CopyButton text={rotated} label="Copy new secret" />
                <p>The previous secret keeps signing notifications alongside this one for 24 hours.</p>
                <button type="button" className="secondary" onClick={() => setRotated(null)}>
                  Done
                </button>
              </div>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

/**
 * Notification endpoints: where this project's operators hear that a webhook is failing, will
 * be disabled, was disabled or recovered. Each gets signed requests like a webhook (README,
 * "Failure notifications").
 */
export function NotificationsPage() {
  const project = useProject();
  const canManage = roleAtLeast(project.myRole, 'ADMIN');
  const { data, error } = useQuery(ConsoleNotificationEndpointsDocument, { variables: { projectId: project.id }, skip: !canManage });
  if (!canManage) return <RoleNotice role={project.myRole} what="Managing failure notifications" />;
  const endpoints = data?.notificationEndpoints;
  return (
    <section>
      <div className="page-head">
        <h1>Failure notifications</h1>
      </div>
      <p>
        When a webhook starts failing, is about to be disabled, is disabled or recovers, each endpoint below gets a signed JSON request
        (Standard Webhooks headers, its own signing secret), retried and logged like any webhook call.
      </p>
      <ErrorNotice error={error} />
      {endpoints && endpoints.length === 0 && <p className="muted">No notification endpoints yet.</p>}
      {endpoints && endpoints.length > 0 && (
        <div className="table-wrap">
          <table className="data" aria-label="Notification endpoints">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">URL</th>
                <th scope="col">Sends</th>
                <th scope="col">Status</th>
                <th scope="col">Signing secret</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((e) => (
                <EndpointRow key={e.id} endpoint={e} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CreateEndpointForm projectId={project.id} />
    </section>
  );
}
