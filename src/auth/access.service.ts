import { DataSource, EntityManager } from 'typeorm';
import { forbidden, notFound, unauthenticated } from '../common/app-error';
import { ProjectMember } from '../cms/project-member.entity';
import { ProjectRole, roleAtLeast } from '../cms/roles';
import type { Actor } from './actor';

/**
 * Project scoping in one place. A caller who is not a member of a project gets NOT_FOUND,
 * exactly like a missing id, so nobody learns what exists elsewhere; a member whose role is
 * too low gets FORBIDDEN.
 */
export class AccessService {
  constructor(private readonly dataSource: DataSource) {}

  requireActor(actor: Actor | null): Actor {
    if (!actor) throw unauthenticated();
    return actor;
  }

  /** Returns the caller's role (super-admins count as OWNER everywhere). */
  async requireRole(
    actor: Actor | null,
    projectId: string,
    required: ProjectRole,
    action: string,
    what = 'Project',
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ProjectRole> {
    const caller = this.requireActor(actor);
    if (caller.isSuperAdmin) {
      const exists = await manager.query('SELECT 1 FROM project WHERE id = $1', [projectId]);
      if (exists.length === 0) throw notFound(what);
      return ProjectRole.OWNER;
    }
    const member = await manager.findOneBy(ProjectMember, { projectId, userId: caller.user.id });
    if (!member) throw notFound(what);
    if (!roleAtLeast(member.role, required)) throw forbidden(action);
    return member.role;
  }
}
