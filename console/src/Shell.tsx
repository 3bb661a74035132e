import type { ReactNode } from 'react';
import type { Project } from './projects/project';
import { projectPath } from './projects/project';
import { Link, useLocation } from './router';

/** Header (project, navigation, sign out) around every signed-in screen. */
export function Shell({ project, onSignOut, children }: { project?: Project; onSignOut: () => void; children: ReactNode }) {
  const { pathname } = useLocation();
  const nav = project
    ? [
        { to: projectPath(project.id, '/webhooks'), label: 'Webhooks' },
        { to: projectPath(project.id, '/activity'), label: 'Activity log' },
        { to: projectPath(project.id, '/notifications'), label: 'Notifications' },
      ]
    : [];
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          CMS webhooks
        </Link>
        {project && (
          <span className="project">
            <span className="project-name">{project.name}</span>
            <span className="role" title="Your role in this project">
              {project.myRole}
            </span>
          </span>
        )}
        <nav aria-label="Main">
          <ul>
            <li>
              <Link to="/" aria-current={pathname === '/' ? 'page' : undefined}>
                Projects
              </Link>
            </li>
            {nav.map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={pathname.startsWith(item.to) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="secondary sign-out" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main">{children}</main>
    </>
  );
}
