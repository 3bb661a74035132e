import { createContext, useContext } from 'react';
import type { ConsoleProjectsQuery } from '../generated/graphql';

export type Project = ConsoleProjectsQuery['projects'][number];

export const ProjectContext = createContext<Project | null>(null);

/** The project of the current route, with the caller's role in it. */
export function useProject(): Project {
  const project = useContext(ProjectContext);
  if (!project) throw new Error('useProject outside a project route');
  return project;
}

export const projectPath = (projectId: string, rest = '') => `/projects/${projectId}${rest}`;
