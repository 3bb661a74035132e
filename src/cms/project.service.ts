import { DataSource, In } from 'typeorm';
import { AccessService } from '../auth/access.service';
import type { Actor } from '../auth/actor';
import { AppError, badInput, ErrorCode, notFound } from '../common/app-error';
import { isUniqueViolation } from '../db/errors';
import { inTransaction } from '../db/transaction';
import { Project } from './project.entity';
import { ProjectMember } from './project-member.entity';
import { ProjectRole } from './roles';
import { User } from '../auth/user.entity';

export class ProjectService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: AccessService,
  ) {}

  async create(actor: Actor, name: string): Promise<Project> {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 200) throw badInput('input.name', 'must be 1 to 200 characters');
    return inTransaction(this.dataSource, actor, async (m) => {
      const project = await m.save(m.create(Project, { name: trimmed }));
      await m.save(m.create(ProjectMember, { projectId: project.id, userId: actor.user.id, role: ProjectRole.OWNER }));
      return project;
    });
  }

  async list(actor: Actor): Promise<Project[]> {
    const repo = this.dataSource.getRepository(Project);
    if (actor.isSuperAdmin) return repo.find({ order: { createdAt: 'ASC' } });
    const memberships = await this.dataSource.getRepository(ProjectMember).findBy({ userId: actor.user.id });
    if (memberships.length === 0) return [];
    return repo.find({ where: { id: In(memberships.map((m) => m.projectId)) }, order: { createdAt: 'ASC' } });
  }

  async members(actor: Actor, projectId: string): Promise<ProjectMember[]> {
    await this.access.requireRole(actor, projectId, ProjectRole.VIEWER, 'read members');
    return this.dataSource.getRepository(ProjectMember).find({
      where: { projectId },
      relations: { user: true },
      order: { createdAt: 'ASC' },
    });
  }

  /**
   * Adds a member or changes their role (saving a loaded row, so the subscriber sees the old
   * role). Only an OWNER may hand out or take away OWNER, and a project keeps at least one.
   */
  async assign(actor: Actor, projectId: string, userId: string, role: ProjectRole): Promise<ProjectMember> {
    try {
      return await this.assignOnce(actor, projectId, userId, role);
    } catch (error) {
      // Two requests adding the same new member: the loser retries and finds the row to update.
      if (!isUniqueViolation(error)) throw error;
      return this.assignOnce(actor, projectId, userId, role);
    }
  }

  private async assignOnce(actor: Actor, projectId: string, userId: string, role: ProjectRole): Promise<ProjectMember> {
    return inTransaction(this.dataSource, actor, async (m) => {
      const callerRole = await this.access.requireRole(actor, projectId, ProjectRole.ADMIN, 'manage members', 'Project', m);
      if (!(await m.findOneBy(User, { id: userId }))) throw notFound('User');
      const existing = await m.findOne(ProjectMember, { where: { projectId, userId }, lock: { mode: 'pessimistic_write' } });
      if ((role === ProjectRole.OWNER || existing?.role === ProjectRole.OWNER) && callerRole !== ProjectRole.OWNER) {
        throw new AppError(ErrorCode.FORBIDDEN, 'Only an owner can grant or change the OWNER role');
      }
      if (existing?.role === ProjectRole.OWNER && role !== ProjectRole.OWNER) await this.keepAnOwner(m, projectId, userId);
      if (existing) {
        existing.role = role;
        await m.save(existing);
      } else {
        await m.save(m.create(ProjectMember, { projectId, userId, role }));
      }
      return m.findOneOrFail(ProjectMember, { where: { projectId, userId }, relations: { user: true } });
    });
  }

  async deassign(actor: Actor, projectId: string, userId: string): Promise<boolean> {
    return inTransaction(this.dataSource, actor, async (m) => {
      const callerRole = await this.access.requireRole(actor, projectId, ProjectRole.ADMIN, 'manage members', 'Project', m);
      const existing = await m.findOne(ProjectMember, { where: { projectId, userId }, lock: { mode: 'pessimistic_write' } });
      if (!existing) throw notFound('Project member');
      if (existing.role === ProjectRole.OWNER) {
        if (callerRole !== ProjectRole.OWNER) throw new AppError(ErrorCode.FORBIDDEN, 'Only an owner can remove an owner');
        await this.keepAnOwner(m, projectId, userId);
      }
      await m.remove(existing);
      return true;
    });
  }

  private async keepAnOwner(m: import('typeorm').EntityManager, projectId: string, leavingUserId: string): Promise<void> {
    const owners = await m.query(
      `SELECT user_id FROM project_member WHERE project_id = $1 AND role = 'OWNER' AND user_id <> $2 FOR UPDATE`,
      [projectId, leavingUserId],
    );
    if (owners.length === 0) throw badInput('userId', 'is the last owner of the project; assign another owner first');
  }
}
