import { useMutation, useQuery } from '@apollo/client/react';
import { CopyButton } from '../common/CopyButton';
import { ErrorNotice } from '../common/ErrorNotice';
import { formatDuration, formatTime } from '../common/format';
import { RoleNotice } from '../common/RoleNotice';
import { roleAtLeast } from '../common/roles';
import { ConsoleWebhookCallsDocument, ReplayWebhookCallDocument, WebhookCallDocument } from '../generated/graphql';
import { projectPath, useProject } from '../projects/project';
import { Link } from '../router';
import { triggerLabel } from '../webhooks/triggers';
import { Body, HeaderTable } from './Body';

function Attempts({ projectId, eventId, currentId }: { projectId: string; eventId: string; currentId: string }) {
  const { data, error } = useQuery(ConsoleWebhookCallsDocument, { variables: { projectId, filter: { eventId }, first: 100 } });
  const calls = data?.webhookCalls.edges.map((e) => e.node) ?? [];
  return (
    <section className="panel" aria-labelledby="attempts-title">
      <h2 id="attempts-title">Every attempt of this event</h2>
      <p className="help">
        Retries and replays carry the same <code>webhook-id</code> (the event id), so a receiver can tell them apart from new events.
      </p>
      <ErrorNotice error={error} />
      <table className="data" aria-label="Attempts of this event">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Kind</th>
            <th scope="col">Attempt</th>
            <th scope="col">Status</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {calls.map((c) => (
            <tr key={c.id} aria-current={c.id === currentId ? 'true' : undefined}>
              <td>{c.id === currentId ? formatTime(c.createdAt) : <Link to={projectPath(projectId, `/activity/${c.id}`)}>{formatTime(c.createdAt)}</Link>}</td>
              <td>{c.kind}</td>
              <td>{c.attempt}</td>
              <td>{c.responseStatusCode ?? '–'}</td>
              <td className={c.success ? 'ok' : 'bad'}>{c.success ? 'Succeeded' : (c.error ?? 'Failed')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** One attempt: the request exactly as sent (secret values masked), the response as received. */
export default function CallDetailsPage({ callId }: { callId: string }) {
  const project = useProject();
  const canRead = roleAtLeast(project.myRole, 'ADMIN');
  const { data, error } = useQuery(WebhookCallDocument, { variables: { id: callId }, skip: !canRead });
  const [replay, replayState] = useMutation(ReplayWebhookCallDocument);
  if (!canRead) return <RoleNotice role={project.myRole} what="The activity log" />;
  const crumbs = (
    <p className="crumbs">
      <Link to={projectPath(project.id, '/activity')}>Activity log</Link> /
    </p>
  );
  if (error)
    return (
      <section>
        {crumbs}
        <h1>Call details</h1>
        <ErrorNotice error={error} />
      </section>
    );
  if (!data) return <p className="loading">Loading…</p>;
  const call = data.webhookCall;
  const replayed = replayState.data?.replayWebhookCall;
  return (
    <section className="call">
      {crumbs}
      <div className="page-head">
        <h1>Call details</h1>
        <div className="actions">
          <CopyButton text={call.curl} label="Copy as curl" />
          <button type="button" onClick={() => replay({ variables: { id: call.id }, refetchQueries: [ConsoleWebhookCallsDocument] }).catch(() => undefined)} disabled={replayState.loading}>
            Replay
          </button>
        </div>
      </div>
      <ErrorNotice error={replayState.error} />
      {replayed && (
        <p role="status" className={replayed.success ? 'ok' : 'bad'}>
          Replayed: {replayed.success ? 'delivered' : 'failed'} ({replayed.responseStatusCode != null ? `HTTP ${replayed.responseStatusCode}` : replayed.error}).{' '}
          <Link to={projectPath(project.id, `/activity/${replayed.id}`)}>View the replay</Link>
        </p>
      )}
      <dl className="facts">
        <dt>Time</dt>
        <dd>{formatTime(call.createdAt)}</dd>
        <dt>Webhook</dt>
        <dd>
          <Link to={projectPath(project.id, `/webhooks/${call.webhookId}`)}>Open the webhook</Link>
        </dd>
        <dt>Trigger</dt>
        <dd>{triggerLabel(call.trigger)}</dd>
        <dt>Kind</dt>
        <dd>{call.kind}</dd>
        <dt>Attempt</dt>
        <dd>{call.attempt}</dd>
        <dt>Result</dt>
        <dd className={call.success ? 'ok' : 'bad'}>{call.success ? 'Succeeded' : `Failed: ${call.error ?? 'no reason logged'}`}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(call.durationMs)}</dd>
        <dt>Next retry</dt>
        <dd>{call.nextRetryAt ? formatTime(call.nextRetryAt) : 'None'}</dd>
        <dt>Event id</dt>
        <dd>
          <code>{call.eventId}</code>
        </dd>
      </dl>
      <p className="help">
        <strong>Copy as curl</strong> puts a command on the clipboard that sends this exact request again, headers included; secret header values
        are masked (••••), so put the real ones in before running it.
      </p>

      <div className="two-col">
        <section className="panel" aria-labelledby="request-title">
          <h2 id="request-title">Request</h2>
          <p>
            <code>{call.requestMethod}</code> <span className="url">{call.requestUrl}</span>
          </p>
          <h3>Headers</h3>
          <HeaderTable headers={call.requestHeaders} label="Request headers" />
          <h3>Body</h3>
          <Body text={call.requestBody} label="Request body" />
        </section>
        <section className="panel" aria-labelledby="response-title">
          <h2 id="response-title">Response</h2>
          <p>{call.responseStatusCode != null ? `HTTP ${call.responseStatusCode}` : 'No response arrived'}</p>
          <h3>Headers</h3>
          <HeaderTable headers={call.responseHeaders} label="Response headers" />
          <h3>Body</h3>
          <Body text={call.responseBody} label="Response body" />
        </section>
      </div>
      <Attempts projectId={project.id} eventId={call.eventId} currentId={call.id} />
    </section>
  );
}
