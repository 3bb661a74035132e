import path from 'node:path';
import fs from 'node:fs';
import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startApp, RunningApp } from '../../src/app';
import { OPERATIONS, OperationName } from '../../sdk/operations';
import { testConfig } from './config';
import { createTestDatabase } from './database';
import { type Logger, silentLogger } from '../../src/observability/logger';

export interface GqlResult<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; field?: string }; path?: string[] }>;
}

/** The contract operations, by name, exactly as the frontend and SDK send them. */
const CONTRACT = fs.readFileSync(path.join(__dirname, '..', '..', 'contract', 'operations.graphql'), 'utf8');

export function contractDocument(): string {
  return CONTRACT;
}

export interface TestApi {
  app: RunningApp;
  url: string;
  databaseUrl: string;
  adminToken: string;
  /** POST a query (or a contract operation by name with `op`) as the holder of `token`. */
  gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  op<T = any>(token: string | null, operationName: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

/** A server on a random loopback port with a fresh database of its own; `log` receives what the app logs. */
export async function startTestApi(env: Partial<NodeJS.ProcessEnv> = {}, databaseUrl?: string, log: Logger = silentLogger): Promise<TestApi> {
  let url = databaseUrl;
  if (!url) {
    const db = await createTestDatabase('api');
    url = db.url;
    await db.dataSource.destroy();
  }
  const config = testConfig(url, env);
  const app = await startApp(config, log);
  const endpoint = `http://127.0.0.1:${app.http!.port}/graphql`;
  const gql = async (token: string | null, query: string, variables?: Record<string, unknown>, operationName?: string) => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables, operationName }),
    });
    const body = (await res.json()) as GqlResult;
    return { ...body, status: res.status };
  };
  return {
    app,
    url: endpoint,
    databaseUrl: url,
    adminToken: config.bootstrapAdminToken!,
    gql,
    op: (token, operationName, variables) => gql(token, OPERATIONS[operationName as OperationName], variables, operationName),
    close: () => app.stop(),
  };
}

/** The code of the first error, or 'OK' when there was none. */
export function codeOf(result: GqlResult): string {
  return result.errors?.[0]?.extensions?.code ?? 'OK';
}

/** The data of a result that must have succeeded; otherwise fails naming `what` and the errors. */
export function ok<T = any>(result: GqlResult<T>, what: string): T {
  if (codeOf(result) !== 'OK') throw new Error(`${what} failed: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

/** A graphql-ws client on `target`'s endpoint as the holder of `token`; it never retries, so a closed socket ends its streams. */
export function wsClient(target: TestApi, token: string | null): Client {
  return createClient({
    url: target.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
}

/** Creates a user with a token, optionally a member of `projectId` with `role`. */
export async function createUserWithToken(api: TestApi, email: string, projectId?: string, role?: string): Promise<{ id: string; token: string }> {
  const user = await api.op(api.adminToken, 'CreateUser', { input: { email } });
  if (user.errors) throw new Error(`CreateUser failed: ${JSON.stringify(user.errors)}`);
  const id = user.data.createUser.id as string;
  const token = await api.op(api.adminToken, 'CreateApiToken', { userId: id, name: 'test' });
  if (token.errors) throw new Error(`CreateApiToken failed: ${JSON.stringify(token.errors)}`);
  if (projectId && role) {
    const assigned = await api.op(api.adminToken, 'AssignProjectMember', { projectId, userId: id, role });
    if (assigned.errors) throw new Error(`AssignProjectMember failed: ${JSON.stringify(assigned.errors)}`);
  }
  return { id, token: token.data.createApiToken.token };
}

/** A project made by the admin. */
export async function createProject(api: TestApi, name: string): Promise<string> {
  const result = await api.op(api.adminToken, 'CreateProject', { input: { name } });
  if (codeOf(result) !== 'OK') throw new Error(`CreateProject failed: ${JSON.stringify(result.errors)}`);
  return result.data.createProject.id;
}

/** A webhook on DOCUMENT_CREATE whose URL leads nowhere (port 9): something for log rows to belong to. */
export async function createWebhook(api: TestApi, projectId: string, name: string): Promise<string> {
  const result = await api.op(api.adminToken, 'CreateWebhook', {
    projectId,
    input: { name, url: `http://127.0.0.1:9/${name}`, triggers: ['DOCUMENT_CREATE'] },
  });
  if (codeOf(result) !== 'OK') throw new Error(`CreateWebhook failed: ${JSON.stringify(result.errors)}`);
  return result.data.createWebhook.id;
}
