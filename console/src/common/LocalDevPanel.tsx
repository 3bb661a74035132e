import { CopyButton } from './CopyButton';

function Command({ label, text }: { label: string; text: string }) {
  return (
    <figure className="command">
      <figcaption>{label}</figcaption>
      <pre tabIndex={0} aria-label={label}>
        {text}
      </pre>
      <CopyButton text={text} label="Copy command" />
    </figure>
  );
}

/**
 * How to see events on a developer's machine. Webhooks only call public addresses, so a
 * receiver on localhost gets nothing directly; `cms-webhooks listen` (the SDK's command)
 * subscribes out to this server and forwards each event, signed, to the local server.
 * The token is never printed here: the commands read it from $CMS_TOKEN.
 */
export function LocalDevPanel({ projectId, webhookId, open = false }: { projectId: string; webhookId?: string; open?: boolean }) {
  const origin = location.origin;
  const listen = [
    'export CMS_TOKEN=…   # an API token of an ADMIN of this project',
    `export CMS_API_URL=${origin}/graphql`,
    `npx cms-webhooks listen --project ${projectId}${webhookId ? ` --webhook ${webhookId}` : ''} --forward-to http://localhost:3000/api/webhook`,
  ].join('\n');
  const test = webhookId
    ? `curl -s ${origin}/graphql -H "authorization: Bearer $CMS_TOKEN" -H 'content-type: application/json' \\\n  -d '{"query":"mutation($id: ID!) { testWebhook(id: $id) { success responseStatusCode durationMs } }","variables":{"id":"${webhookId}"}}'`
    : `curl -s ${origin}/graphql -H "authorization: Bearer $CMS_TOKEN" -H 'content-type: application/json' \\\n  -d '{"query":"query($p: ID!) { webhooks(projectId: $p) { id name url } }","variables":{"p":"${projectId}"}}'`;
  return (
    <details className="panel local-dev" open={open}>
      <summary>Local development</summary>
      <p>
        Webhooks only call public addresses, so a server on <code>localhost</code> never gets a real delivery. Forward this project&rsquo;s
        events to it instead: <code>cms-webhooks listen</code> (from the <code>cms-webhooks-sdk</code> package) connects out to this server and
        sends each event to your local URL exactly as the webhook would, signed with a local secret it prints.
      </p>
      <Command label="Forward events to a local server" text={listen} />
      <Command label={webhookId ? 'Send this webhook a test event with curl' : 'List this project\u2019s webhooks with curl'} text={test} />
      <p>
        To send one logged call again to your local server, open it in the Activity log and use <strong>Copy as curl</strong>, or run{' '}
        <code>npx cms-webhooks replay CALL_ID --forward-to http://localhost:3000/api/webhook</code>.
      </p>
    </details>
  );
}
