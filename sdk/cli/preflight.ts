import { CmsApiError, CmsClient } from '../client';
import { UsageError } from './args';

/**
 * Checks made before a command starts, so that a wrong URL, token or project stops it at once
 * with exit code 2 and a line saying which, instead of a stream that retries for ever.
 */
export async function checkApi(cms: CmsClient, apiUrl: string): Promise<void> {
  try {
    await cms.me();
  } catch (error) {
    if (!(error instanceof CmsApiError)) throw error;
    if (error.code === 'NETWORK_ERROR') throw new UsageError(`cannot reach the CMS API at ${apiUrl}: ${error.message.replace(/^Request to \S+ failed: /, '')}`);
    if (error.code === 'UNAUTHENTICATED') throw new UsageError('the CMS refused the API token (UNAUTHENTICATED): check --token or CMS_TOKEN');
    throw new UsageError(`the CMS API at ${apiUrl} answered ${error.code}: ${error.message}`);
  }
}

/** The project exists for the caller, with a role that may stream its events (ADMIN and up, as the log). */
export async function projectAccess(cms: CmsClient, projectId: string): Promise<void> {
  try {
    // The log's first page needs the same role as the event stream, and costs one index seek.
    await cms.webhookCalls(projectId, undefined, 1);
  } catch (error) {
    if (!(error instanceof CmsApiError)) throw error;
    if (error.code === 'NOT_FOUND') throw new UsageError(`project ${projectId} not found (or you are not a member of it)`);
    if (error.code === 'FORBIDDEN') throw new UsageError(`project ${projectId}: listening needs the ADMIN or OWNER role`);
    throw new UsageError(`project ${projectId}: ${error.message} (${error.code})`);
  }
}
