import { useQuery } from '@apollo/client/react';
import { useCallback, useMemo } from 'react';
import { ErrorNotice } from '../common/ErrorNotice';
import { LocalDevPanel } from '../common/LocalDevPanel';
import { RoleNotice } from '../common/RoleNotice';
import { roleAtLeast } from '../common/roles';
import { ConsoleWebhooksDocument, type WebhookTrigger } from '../generated/graphql';
import { projectPath, useProject } from '../projects/project';
import { navigate, useLocation } from '../router';
import { TRIGGERS } from '../webhooks/triggers';
import { CallTable } from './CallTable';
import { LiveIndicator } from './LiveIndicator';
import { type LogFilter, useCallLog } from './useCallLog';

function EmptyLog({ projectId, filtered }: { projectId: string; filtered: boolean }) {
  if (filtered) return <p className="empty">No calls match these filters.</p>;
  return (
    <div className="empty">
      <p className="empty-title">No calls logged yet</p>
      <p>
        The log stays empty until an action fires: create a document, change a blueprint, or assign a member, in a project with an enabled
        webhook for that action. &ldquo;Document update&rdquo; needs a status change, such as publishing a document; saving fields alone is a
        &ldquo;Document field update&rdquo;. Or open a webhook and use <strong>Send test event</strong>.
      </p>
      <p>New calls appear here as they are logged, without reloading.</p>
      <LocalDevPanel projectId={projectId} />
    </div>
  );
}

/** The project's log (or one webhook's, with ?webhook=), newest first, live. */
export function ActivityPage() {
  const project = useProject();
  const { search } = useLocation();
  const canRead = roleAtLeast(project.myRole, 'ADMIN');
  const webhooks = useQuery(ConsoleWebhooksDocument, { variables: { projectId: project.id }, skip: !canRead });
  const filter: LogFilter = {
    webhookId: search.get('webhook'),
    success: search.get('result') === 'succeeded' ? true : search.get('result') === 'failed' ? false : null,
    trigger: (search.get('trigger') as WebhookTrigger | null) ?? null,
  };
  const log = useCallLog(project.id, filter);
  const names = useMemo(() => new Map(webhooks.data?.webhooks.map((w) => [w.id, w.name]) ?? []), [webhooks.data]);
  const webhookName = useCallback((id: string) => names.get(id) ?? id.slice(0, 8), [names]);
  const detailsPath = useCallback((callId: string) => projectPath(project.id, `/activity/${callId}`), [project.id]);

  if (!canRead) return <RoleNotice role={project.myRole} what="The activity log" />;

  const setParam = (name: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    const query = next.toString();
    navigate(`${projectPath(project.id, '/activity')}${query ? `?${query}` : ''}`, { replace: true });
  };
  const filtered = filter.webhookId != null || filter.success != null || filter.trigger != null;
  const title = filter.webhookId ? `Activity log: ${webhookName(filter.webhookId)}` : 'Activity log';

  return (
    <section className="activity">
      <div className="page-head">
        <h1>{title}</h1>
        <LiveIndicator paused={log.paused} pending={log.pending} onToggle={() => log.setPaused(!log.paused)} />
      </div>
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="f-webhook">Webhook</label>
          <select id="f-webhook" value={filter.webhookId ?? ''} onChange={(e) => setParam('webhook', e.target.value)}>
            <option value="">All webhooks</option>
            {webhooks.data?.webhooks.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-result">Result</label>
          <select id="f-result" value={search.get('result') ?? ''} onChange={(e) => setParam('result', e.target.value)}>
            <option value="">Succeeded and failed</option>
            <option value="succeeded">Succeeded</option>
            <option value="failed">Failed</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-trigger">Trigger</label>
          <select id="f-trigger" value={filter.trigger ?? ''} onChange={(e) => setParam('trigger', e.target.value)}>
            <option value="">All triggers</option>
            {TRIGGERS.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorNotice error={log.error ?? webhooks.error} />
      {log.rows.length === 0 && !log.loading && !log.error && !log.hasMore ? (
        <EmptyLog projectId={project.id} filtered={filtered} />
      ) : (
        <CallTable rows={log.rows} webhookName={webhookName} detailsPath={detailsPath} hasMore={log.hasMore} loading={log.loading} onNearEnd={log.loadMore} />
      )}
      <div className="log-foot">
        <span role="status">
          {log.rows.length} call{log.rows.length === 1 ? '' : 's'} loaded{log.loading ? ', loading older…' : log.hasMore ? '' : ', the oldest reached'}
        </span>
        {log.hasMore && (
          <button type="button" className="secondary" onClick={log.loadMore} disabled={log.loading}>
            Load older calls
          </button>
        )}
      </div>
    </section>
  );
}
