import { useQuery } from '@apollo/client/react';
import { lazy, type ReactElement, Suspense } from 'react';
import { ActivityPage } from './activity/ActivityPage';
import { ErrorNotice } from './common/ErrorNotice';
import { ConsoleProjectsDocument } from './generated/graphql';
import { ProjectList } from './projects/ProjectList';
import { type Project, ProjectContext } from './projects/project';
import { Link, matchPath, useLocation } from './router';
import { Shell } from './Shell';
import { WebhookCreatePage } from './webhooks/WebhookCreatePage';
import { WebhookPage } from './webhooks/WebhookPage';
import { WebhooksPage } from './webhooks/WebhooksPage';
import { NotificationsPage } from './notifications/NotificationsPage';

// Details are opened from the log; their code loads when first needed.
const CallDetailsPage = lazy(() => import('./activity/CallDetailsPage'));

const PROJECT_ROUTES: Array<{ pattern: string; render: (params: Record<string, string>) => ReactElement }> = [
  { pattern: '/projects/:projectId/webhooks', render: () => <WebhooksPage /> },
  { pattern: '/projects/:projectId/webhooks/new', render: () => <WebhookCreatePage /> },
  { pattern: '/projects/:projectId/webhooks/:webhookId', render: (p) => <WebhookPage key={p.webhookId} webhookId={p.webhookId} /> },
  { pattern: '/projects/:projectId/activity', render: () => <ActivityPage /> },
  { pattern: '/projects/:projectId/notifications', render: () => <NotificationsPage /> },
  { pattern: '/projects/:projectId/activity/:callId', render: (p) => <CallDetailsPage key={p.callId} callId={p.callId} /> },
];

function NotFoundPage() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no such page in the console. <Link to="/">See your projects</Link>.
      </p>
    </section>
  );
}

export function Routes({ onSignOut }: { onSignOut: () => void }) {
  const { pathname } = useLocation();
  const projects = useQuery(ConsoleProjectsDocument);
  const route = PROJECT_ROUTES.map((r) => ({ r, params: matchPath(r.pattern, pathname) })).find((m) => m.params);
  const projectId = route?.params?.projectId;
  const project: Project | undefined = projects.data?.projects.find((p) => p.id === projectId);

  let content: ReactElement;
  if (pathname === '/') content = <ProjectList projects={projects.data?.projects} loading={projects.loading} error={projects.error} />;
  else if (!route) content = <NotFoundPage />;
  else if (!projects.data) content = projects.error ? <ErrorNotice error={projects.error} /> : <p className="loading">Loading…</p>;
  else if (!project)
    content = (
      <section>
        <h1>Project not found</h1>
        <div className="notice error" role="alert">
          <p>
            <code className="code">NOT_FOUND</code> Project not found. It does not exist, or you are not a member of it.
          </p>
        </div>
        <p>
          <Link to="/">See your projects</Link>
        </p>
      </section>
    );
  else
    content = (
      <ProjectContext.Provider value={project}>
        <Suspense fallback={<p className="loading">Loading…</p>}>{route.r.render(route.params!)}</Suspense>
      </ProjectContext.Provider>
    );

  return (
    <Shell project={project} onSignOut={onSignOut}>
      {content}
    </Shell>
  );
}
