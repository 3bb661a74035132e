export enum ProjectRole {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  EDITOR = 'EDITOR',
  VIEWER = 'VIEWER',
}

const RANK: Record<ProjectRole, number> = {
  [ProjectRole.VIEWER]: 1,
  [ProjectRole.EDITOR]: 2,
  [ProjectRole.ADMIN]: 3,
  [ProjectRole.OWNER]: 4,
};

/** OWNER can do what ADMIN can, ADMIN what EDITOR can, and so on. */
export function roleAtLeast(role: ProjectRole, required: ProjectRole): boolean {
  return RANK[role] >= RANK[required];
}
