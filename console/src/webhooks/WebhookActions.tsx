import { useMutation } from '@apollo/client/react';
import { useState } from 'react';
import { ConfirmDialog } from '../common/ConfirmDialog';
import { ErrorNotice } from '../common/ErrorNotice';
import { formatDuration } from '../common/format';
import { DeleteWebhookDocument, RecoverWebhookDocument, TestWebhookDocument, UpdateWebhookDocument, type WebhookFieldsFragment, type WebhookTrigger } from '../generated/graphql';
import { projectPath } from '../projects/project';
import { Link, navigate } from '../router';
import { triggerLabel, TRIGGERS } from './triggers';

const RECOVER_DAYS = 14;
const ignore = () => undefined; // each mutation's error is shown from its state

/** Test, enable/disable, re-send failures, delete: each says what happened, or the server's refusal. */
export function WebhookActions({ webhook }: { webhook: WebhookFieldsFragment }) {
  const [trigger, setTrigger] = useState<WebhookTrigger>(webhook.triggers[0] ?? 'DOCUMENT_CREATE');
  const [test, testState] = useMutation(TestWebhookDocument);
  const [update, updateState] = useMutation(UpdateWebhookDocument);
  const [recover, recoverState] = useMutation(RecoverWebhookDocument);
  const [remove, removeState] = useMutation(DeleteWebhookDocument);
  const [confirming, setConfirming] = useState(false);

  const tested = testState.data?.testWebhook;
  const logPath = projectPath(webhook.projectId, '/activity');
  return (
    <section className="panel" aria-labelledby="actions-title">
      <h2 id="actions-title">Send, pause, delete</h2>
      <div className="action-row">
        <label htmlFor="test-trigger">Test event action</label>
        <select id="test-trigger" value={trigger} onChange={(e) => setTrigger(e.target.value as WebhookTrigger)}>
          {TRIGGERS.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => test({ variables: { id: webhook.id, trigger } }).catch(ignore)} disabled={testState.loading}>
          Send test event
        </button>
      </div>
      <ErrorNotice error={testState.error} />
      {tested && (
        <p role="status" className={tested.success ? 'ok' : 'bad'}>
          Test event ({triggerLabel(tested.trigger)}) {tested.success ? 'delivered' : 'failed'}:{' '}
          {tested.responseStatusCode != null ? `HTTP ${tested.responseStatusCode}` : tested.error} in {formatDuration(tested.durationMs)}.{' '}
          <Link to={`${logPath}/${tested.id}`}>View details</Link>
        </p>
      )}

      <div className="action-row">
        <button type="button" className="secondary" disabled={updateState.loading} onClick={() => update({ variables: { id: webhook.id, input: { enabled: !webhook.enabled } } }).catch(ignore)}>
          {webhook.enabled ? 'Disable webhook' : 'Enable webhook'}
        </button>
        <span className="help">{webhook.enabled ? 'A disabled webhook is sent nothing until it is enabled again.' : 'Enabled again, it gets events from then on.'}</span>
      </div>
      <ErrorNotice error={updateState.error} />

      <div className="action-row">
        <button
          type="button"
          className="secondary"
          disabled={recoverState.loading}
          // A minute inside the server's 14-day limit, so the clocks of browser and server may differ a little.
          onClick={() => recover({ variables: { id: webhook.id, since: new Date(Date.now() - RECOVER_DAYS * 86_400_000 + 60_000).toISOString() } }).catch(ignore)}
        >
          Re-send failed calls
        </button>
        <span className="help">Every delivery that failed for good in the last {RECOVER_DAYS} days gets one more attempt.</span>
      </div>
      <ErrorNotice error={recoverState.error} />
      {recoverState.data && <p role="status">{recoverState.data.recoverWebhook} failed deliveries queued again.</p>}

      <div className="action-row">
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete
        </button>
      </div>
      <ErrorNotice error={removeState.error} />
      <ConfirmDialog
        open={confirming}
        title={`Delete webhook “${webhook.name}”?`}
        confirmLabel="Delete webhook"
        busy={removeState.loading}
        onCancel={() => setConfirming(false)}
        onConfirm={async () => {
          try {
            await remove({ variables: { id: webhook.id } });
            setConfirming(false);
            navigate(projectPath(webhook.projectId, '/webhooks'));
          } catch {
            setConfirming(false);
          }
        }}
      >
        <p>Nothing more is sent to {webhook.url}, and its activity log is deleted with it. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}
