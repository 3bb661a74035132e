import { ErrorNotice } from '../common/ErrorNotice';
import { Link } from '../router';
import type { Project } from './project';
import { projectPath } from './project';

export function ProjectList({ projects, loading, error }: { projects?: Project[]; loading: boolean; error?: unknown }) {
  return (
    <section>
      <h1>Projects</h1>
      <ErrorNotice error={error} />
      {loading && !projects && <p className="loading">Loading…</p>}
      {projects && projects.length === 0 && (
        <div className="empty">
          <p>You are not a member of any project yet.</p>
          <p>
            A project&rsquo;s OWNER or ADMIN can add you with <code>assignProjectMember</code>; a super-admin can create one with{' '}
            <code>createProject</code>.
          </p>
        </div>
      )}
      {projects && projects.length > 0 && (
        <ul className="project-list">
          {projects.map((p) => (
            <li key={p.id}>
              <Link to={projectPath(p.id, '/webhooks')}>{p.name}</Link> <span className="role">{p.myRole}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
