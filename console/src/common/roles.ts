import type { ProjectRole } from '../generated/graphql';

const RANK: Record<ProjectRole, number> = { VIEWER: 1, EDITOR: 2, ADMIN: 3, OWNER: 4 };

/** Mirrors src/cms/roles.ts: the API decides, this only hides what it would refuse. */
export function roleAtLeast(role: ProjectRole, required: ProjectRole): boolean {
  return RANK[role] >= RANK[required];
}
