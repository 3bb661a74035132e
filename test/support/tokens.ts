import { codeOf, TestApi } from './api';

/**
 * The token operations, as a client sends them. They are not in contract/operations.graphql
 * yet; when the contract gains them, use its documents instead of these.
 */
export const TOKEN_OPERATIONS = {
  ApiTokens: `query ApiTokens($userId: ID) {
  apiTokens(userId: $userId) { id name createdAt lastUsedAt revokedAt }
}`,
  RevokeApiToken: `mutation RevokeApiToken($id: ID!) { revokeApiToken(id: $id) }`,
} as const;

export interface ListedToken {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A new token for `userId`, made by the super-admin: its id (for apiTokens/revokeApiToken) and the secret. */
export async function createToken(api: TestApi, userId: string, name = 'extra'): Promise<{ id: string; token: string }> {
  const created = await api.op(api.adminToken, 'CreateApiToken', { userId, name });
  if (codeOf(created) !== 'OK') throw new Error(`CreateApiToken failed: ${JSON.stringify(created.errors)}`);
  return { id: created.data.createApiToken.apiToken.id, token: created.data.createApiToken.token };
}

export async function listTokens(api: TestApi, token: string, userId?: string): Promise<ListedToken[]> {
  const result = await api.gql(token, TOKEN_OPERATIONS.ApiTokens, userId ? { userId } : {});
  if (codeOf(result) !== 'OK') throw new Error(`ApiTokens failed: ${JSON.stringify(result.errors)}`);
  return result.data.apiTokens;
}

export function revoke(api: TestApi, token: string | null, id: string) {
  return api.gql<{ revokeApiToken: boolean }>(token, TOKEN_OPERATIONS.RevokeApiToken, { id });
}
