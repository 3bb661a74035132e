import { useMutation, useQuery } from '@apollo/client/react';
import { lazy, Suspense } from 'react';
import { ErrorNotice } from '../common/ErrorNotice';
import { LocalDevPanel } from '../common/LocalDevPanel';
import { RoleNotice } from '../common/RoleNotice';
import { roleAtLeast } from '../common/roles';
import { ConsoleUpdateWebhookDocument, ConsoleWebhookDocument, ConsoleWebhookHealthDocument, WebhookBodySettingsDocument } from '../generated/graphql';
import { HealthBadge, useHealthUpdates } from './HealthBadge';
import { projectPath, useProject } from '../projects/project';
import { Link, useLocation } from '../router';
import { SigningSecret } from './SigningSecret';
import { WebhookActions } from './WebhookActions';
import { WebhookForm } from './WebhookForm';

const HealthCharts = lazy(() => import('../health/HealthCharts'));

export function WebhookPage({ webhookId }: { webhookId: string }) {
  const project = useProject();
  const { search } = useLocation();
  const canManage = roleAtLeast(project.myRole, 'ADMIN');
  const { data, error } = useQuery(ConsoleWebhookDocument, { variables: { id: webhookId }, skip: !canManage });
  const [update] = useMutation(ConsoleUpdateWebhookDocument);
  const bodySettings = useQuery(WebhookBodySettingsDocument, { variables: { id: webhookId }, skip: !canManage });
  const health = useQuery(ConsoleWebhookHealthDocument, { variables: { id: webhookId }, skip: !canManage });
  useHealthUpdates(project.id, canManage);
  const crumbs = (
    <p className="crumbs">
      <Link to={projectPath(project.id, '/webhooks')}>Webhooks</Link> /
    </p>
  );
  if (!canManage) return <RoleNotice role={project.myRole} what="Seeing and managing webhooks" />;
  if (error)
    return (
      <section>
        {crumbs}
        <h1>Webhook</h1>
        <ErrorNotice error={error} />
      </section>
    );
  if (!data) return <p className="loading">Loading…</p>;
  const webhook = data.webhook;
  return (
    <section>
      {crumbs}
      <div className="page-head">
        <h1>{webhook.name}</h1>
        <span className={webhook.enabled ? 'badge ok' : 'badge off'}>{webhook.enabled ? 'Enabled' : 'Disabled'}</span>
        {webhook.fifo && (
          <span className="badge" title="Deliveries go out one at a time, in event order">
            In order (FIFO)
          </span>
        )}
        {webhook.enabled && health.data && <HealthBadge health={health.data.webhook.health} />}
      </div>
      {search.get('created') && (
        <p className="notice" role="status">
          Webhook created. It is called for the chosen actions from now on; use Send test event to try it.
        </p>
      )}
      {!webhook.enabled && webhook.disabledReason && (
        <p className="notice error" role="note">
          Disabled: {webhook.disabledReason}
        </p>
      )}
      <p>
        <code>{webhook.method}</code> <span className="url">{webhook.url}</span> ·{' '}
        <Link to={`${projectPath(project.id, '/activity')}?webhook=${webhook.id}`}>Activity log of this webhook</Link>
      </p>

      <section className="panel" aria-labelledby="health-title">
        <h2 id="health-title">Health</h2>
        <Suspense fallback={<p className="loading">Loading charts…</p>}>
          <HealthCharts webhookId={webhook.id} />
        </Suspense>
      </section>

      <WebhookActions webhook={webhook} />
      <SigningSecret webhookId={webhook.id} secret={webhook.signingSecret} />

      <section className="panel" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        {bodySettings.loading ? (
          <p className="loading">Loading settings…</p>
        ) : (
        <WebhookForm
          projectId={project.id}
          webhook={webhook}
          body={bodySettings.data?.webhook ?? null}
          onSubmit={async (input) => {
            const result = await update({ variables: { id: webhook.id, input } });
            return result.data!.updateWebhook;
          }}
        />
        )}
      </section>
      <LocalDevPanel projectId={project.id} webhookId={webhook.id} />
    </section>
  );
}
