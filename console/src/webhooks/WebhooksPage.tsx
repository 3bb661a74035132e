import { useQuery } from '@apollo/client/react';
import { lazy, Suspense, useState } from 'react';
import { ErrorNotice } from '../common/ErrorNotice';
import { formatAgo, formatTime } from '../common/format';
import { LocalDevPanel } from '../common/LocalDevPanel';
import { RoleNotice } from '../common/RoleNotice';
import { roleAtLeast } from '../common/roles';
import { ConsoleWebhooksDocument, type WebhookRowFragment } from '../generated/graphql';
import { lastDays } from '../health/ranges';
import { projectPath, useProject } from '../projects/project';
import { Link, navigate } from '../router';
import { HealthBadge, useHealthUpdates } from './HealthBadge';
import { triggerLabel } from './triggers';

// uPlot loads after the table is on screen: the sparklines are the only chart here.
const Sparkline = lazy(() => import('../health/Sparkline'));

function Status({ webhook }: { webhook: WebhookRowFragment }) {
  const fifo = webhook.fifo && (
    <span className="badge" title="Deliveries go out one at a time, in event order">
      FIFO
    </span>
  );
  if (webhook.enabled)
    return (
      <span>
        <span className="badge ok">Enabled</span> <HealthBadge health={webhook.health} /> {fifo}
      </span>
    );
  return (
    <span>
      <span className="badge off">Disabled</span> {fifo}
      {webhook.disabledReason && <span className="reason"> {webhook.disabledReason}</span>}
    </span>
  );
}

function LastCall({ call }: { call: WebhookRowFragment['lastCall'] }) {
  if (!call) return <span className="muted">No calls yet</span>;
  const result = call.success ? `${call.responseStatusCode ?? ''} OK` : call.responseStatusCode ? `${call.responseStatusCode} failed` : 'failed';
  return (
    <span title={formatTime(call.createdAt)}>
      <time dateTime={call.createdAt}>{formatAgo(call.createdAt)}</time>{' '}
      <span className={call.success ? 'ok' : 'bad'}>{result}</span>
      {!call.success && call.error && <span className="reason"> {call.error}</span>}
    </span>
  );
}

function EmptyWebhooks({ projectId }: { projectId: string }) {
  return (
    <div className="empty">
      <p className="empty-title">No webhooks yet</p>
      <p>
        A webhook sends an HTTP request to your URL whenever something happens in this project: a document is created, updated or
        deleted, a blueprint changes, a member is assigned. Every request is signed, retried when it fails, and logged with its exact
        payload in the Activity log. Use <strong>Create webhook</strong> to add the first.
      </p>
      <LocalDevPanel projectId={projectId} />
    </div>
  );
}

export function WebhooksPage() {
  const project = useProject();
  const canManage = roleAtLeast(project.myRole, 'ADMIN');
  const { data, error, loading } = useQuery(ConsoleWebhooksDocument, { variables: { projectId: project.id }, skip: !canManage });
  const [range] = useState(() => lastDays(30));
  useHealthUpdates(project.id, canManage);
  const create = () => navigate(projectPath(project.id, '/webhooks/new'));
  const webhooks = data?.webhooks;

  return (
    <section>
      <div className="page-head">
        <h1>Webhooks</h1>
        {canManage && webhooks && (
          <button type="button" onClick={create}>
            Create webhook
          </button>
        )}
      </div>
      {!canManage && <RoleNotice role={project.myRole} what="Seeing and managing webhooks" />}
      <ErrorNotice error={error} />
      {canManage && loading && !webhooks && <p className="loading">Loading…</p>}
      {webhooks && webhooks.length === 0 && <EmptyWebhooks projectId={project.id} />}
      {webhooks && webhooks.length > 0 && (
        <>
          <div className="table-wrap">
            <table className="data webhooks" aria-label="Webhooks">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Method</th>
                  <th scope="col">URL</th>
                  <th scope="col">Actions</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last 30 days</th>
                  <th scope="col">Last call</th>
                </tr>
              </thead>
              <tbody>
                {webhooks.map((w) => (
                  <tr key={w.id} className="clickable" onClick={(e) => (e.target as HTMLElement).closest('a') || navigate(projectPath(project.id, `/webhooks/${w.id}`))}>
                    <th scope="row">
                      <Link to={projectPath(project.id, `/webhooks/${w.id}`)}>{w.name}</Link>
                    </th>
                    <td>
                      <code>{w.method}</code>
                    </td>
                    <td className="url">{w.url}</td>
                    <td className="actions-list">{w.triggers.map(triggerLabel).join(', ')}</td>
                    <td>
                      <Status webhook={w} />
                    </td>
                    <td className="counts">
                      <span className="ok" title="Successful calls, last 30 days">
                        {w.successfulCallsLast30Days} succeeded
                      </span>{' '}
                      <span className="bad" title="Failed calls, last 30 days">
                        {w.failedCallsLast30Days} failed
                      </span>
                      <Suspense fallback={<span className="sparkline placeholder" aria-hidden="true" />}>
                        <Sparkline webhookId={w.id} range={range} name={w.name} />
                      </Suspense>
                    </td>
                    <td>
                      <LastCall call={w.lastCall} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LocalDevPanel projectId={project.id} />
        </>
      )}
    </section>
  );
}
