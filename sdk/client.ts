// A small typed client for the CMS's GraphQL API. Each method sends one of the contract's
// operations (see operations.ts) and returns its root field, typed as generated from the schema
// (generated/graphql.ts). Subscriptions need a graphql-ws client: `cms-webhooks listen` is one.
import { OPERATIONS, type OperationName, type ResultOf, type VariablesOf } from './operations';
import type { WebhookPayload } from './verify';
import type {
  BlueprintInput,
  BlueprintUpdateInput,
  CreateProjectInput,
  CreateUserInput,
  DocumentInput,
  CmsDocument,
  DocumentsOptions,
  DocumentStatus,
  DocumentUpdateInput,
  ProjectRole,
  WebhookCallFilter,
  WebhookInput,
  WebhookTrigger,
  WebhookUpdateInput,
} from './types';

export interface CmsClientOptions {
  /** The GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  /** An API token; sent as `Authorization: Bearer <token>`. */
  token: string;
  /** A fetch implementation; default the global one (Node >= 18, browsers). */
  fetch?: typeof fetch;
  /**
   * The webhook delivery this client works for (see `forDelivery`): every request carries it
   * as `webhook-id` (and `webhook-origin`), so the CMS never sends the webhook what it causes.
   */
  delivery?: DeliveryContext;
}

/** Which delivery a receiver is handling: its `webhook-id` (the event id) and the webhook it came from. */
export interface DeliveryContext {
  eventId: string;
  /** The body's `webhook.webhook_id`; when omitted the CMS assumes every webhook the event went to. */
  webhookId?: string;
}

/** The codes the contract promises, plus NETWORK_ERROR for a request that got no GraphQL answer. */
export type CmsErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'INTERNAL_SERVER_ERROR'
  | 'NETWORK_ERROR'
  | (string & {});

export interface GraphQLErrorEntry {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** A failed API call. `code` is the first GraphQL error's `extensions.code`, or NETWORK_ERROR. */
export class CmsApiError extends Error {
  override readonly name = 'CmsApiError';
  readonly code: CmsErrorCode;
  readonly path: (string | number)[] | undefined;
  /** The HTTP status, when a response arrived. */
  readonly status: number | undefined;
  /** Every GraphQL error of the response (the first one gives `code`, `message` and `path`). */
  readonly errors: GraphQLErrorEntry[];

  constructor(
    code: CmsErrorCode,
    message: string,
    extra: { path?: (string | number)[]; status?: number; errors?: GraphQLErrorEntry[]; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = code;
    this.path = extra.path;
    this.status = extra.status;
    this.errors = extra.errors ?? [];
  }
}

type Variables = Record<string, unknown>;

/** The root field `F` of operation `N`'s result, as generated from the schema. */
export type Root<N extends OperationName, F extends keyof ResultOf<N>> = ResultOf<N>[F];

export class CmsClient {
  private readonly url: string;
  private readonly token: string;
  private readonly fetchImpl: typeof fetch;
  private readonly options: CmsClientOptions;

  constructor(options: CmsClientOptions) {
    this.options = options;
    if (!options.url) throw new TypeError('CmsClient: url is required');
    if (!options.token) throw new TypeError('CmsClient: token is required');
    this.url = options.url;
    this.token = options.token;
    const f = options.fetch ?? globalThis.fetch;
    // Called through a closure: browsers reject `fetch` invoked with another object as `this`.
    this.fetchImpl = (input, init) => f(input, init);
  }

  // ---------------------------------------------------------------- the webhook follow-up

  /**
   * A client for the follow-up calls of one delivery: the same URL and token, and each request
   * says which delivery it handles. Changes made through it are recorded as caused by that
   * delivery, so the webhook is not sent the events they fire (no endless loop when a receiver
   * updates the document it was told about), and chains across webhooks stop at the CMS's
   * WEBHOOK_MAX_CAUSAL_DEPTH. Pass the verified payload.
   */
  forDelivery(payload: Pick<WebhookPayload, 'event_id' | 'webhook'> | DeliveryContext): this {
    const delivery: DeliveryContext = 'event_id' in payload ? { eventId: payload.event_id, webhookId: payload.webhook?.webhook_id } : payload;
    // The same class: a subclass (extra methods, instrumentation) keeps working for follow-ups.
    const Client = this.constructor as new (options: CmsClientOptions) => this;
    return new Client({ ...this.options, delivery });
  }

  /** The document a webhook's `metadata.document_id` points at. */
  document(id: string): Promise<CmsDocument> {
    return this.call('Document', { id }, 'document');
  }

  blueprint(id: string): Promise<Root<'Blueprint', 'blueprint'>> {
    return this.call('Blueprint', { id }, 'blueprint');
  }

  documents(projectId: string, options: DocumentsOptions = {}): Promise<Root<'Documents', 'documents'>> {
    const { blueprintId, first, after } = options;
    return this.call('Documents', { projectId, blueprintId, first, after }, 'documents');
  }

  // ---------------------------------------------------------------- identity and projects

  me(): Promise<Root<'Me', 'me'>> {
    return this.call('Me', {}, 'me');
  }

  createUser(input: CreateUserInput): Promise<Root<'CreateUser', 'createUser'>> {
    return this.call('CreateUser', { input }, 'createUser');
  }

  /** Without `userId`, the token is for the caller. */
  createApiToken(name: string, userId?: string): Promise<Root<'CreateApiToken', 'createApiToken'>> {
    return this.call('CreateApiToken', { userId, name }, 'createApiToken');
  }

  projects(): Promise<Root<'Projects', 'projects'>> {
    return this.call('Projects', {}, 'projects');
  }

  createProject(input: CreateProjectInput): Promise<Root<'CreateProject', 'createProject'>> {
    return this.call('CreateProject', { input }, 'createProject');
  }

  assignProjectMember(projectId: string, userId: string, role: ProjectRole): Promise<Root<'AssignProjectMember', 'assignProjectMember'>> {
    return this.call('AssignProjectMember', { projectId, userId, role }, 'assignProjectMember');
  }

  deassignProjectMember(projectId: string, userId: string): Promise<Root<'DeassignProjectMember', 'deassignProjectMember'>> {
    return this.call('DeassignProjectMember', { projectId, userId }, 'deassignProjectMember');
  }

  projectMembers(projectId: string): Promise<Root<'ProjectMembers', 'projectMembers'>> {
    return this.call('ProjectMembers', { projectId }, 'projectMembers');
  }

  // ---------------------------------------------------------------- blueprints and documents

  blueprints(projectId: string): Promise<Root<'Blueprints', 'blueprints'>> {
    return this.call('Blueprints', { projectId }, 'blueprints');
  }

  createBlueprint(projectId: string, input: BlueprintInput): Promise<Root<'CreateBlueprint', 'createBlueprint'>> {
    return this.call('CreateBlueprint', { projectId, input }, 'createBlueprint');
  }

  updateBlueprint(id: string, input: BlueprintUpdateInput): Promise<Root<'UpdateBlueprint', 'updateBlueprint'>> {
    return this.call('UpdateBlueprint', { id, input }, 'updateBlueprint');
  }

  deleteBlueprint(id: string): Promise<Root<'DeleteBlueprint', 'deleteBlueprint'>> {
    return this.call('DeleteBlueprint', { id }, 'deleteBlueprint');
  }

  createDocument(projectId: string, input: DocumentInput): Promise<Root<'CreateDocument', 'createDocument'>> {
    return this.call('CreateDocument', { projectId, input }, 'createDocument');
  }

  updateDocument(id: string, input: DocumentUpdateInput): Promise<Root<'UpdateDocument', 'updateDocument'>> {
    return this.call('UpdateDocument', { id, input }, 'updateDocument');
  }

  setDocumentStatus(id: string, status: DocumentStatus): Promise<Root<'SetDocumentStatus', 'setDocumentStatus'>> {
    return this.call('SetDocumentStatus', { id, status }, 'setDocumentStatus');
  }

  deleteDocument(id: string): Promise<Root<'DeleteDocument', 'deleteDocument'>> {
    return this.call('DeleteDocument', { id }, 'deleteDocument');
  }

  // ---------------------------------------------------------------- webhooks and their log

  webhooks(projectId: string): Promise<Root<'Webhooks', 'webhooks'>> {
    return this.call('Webhooks', { projectId }, 'webhooks');
  }

  webhook(id: string): Promise<Root<'Webhook', 'webhook'>> {
    return this.call('Webhook', { id }, 'webhook');
  }

  createWebhook(projectId: string, input: WebhookInput): Promise<Root<'CreateWebhook', 'createWebhook'>> {
    return this.call('CreateWebhook', { projectId, input }, 'createWebhook');
  }

  updateWebhook(id: string, input: WebhookUpdateInput): Promise<Root<'UpdateWebhook', 'updateWebhook'>> {
    return this.call('UpdateWebhook', { id, input }, 'updateWebhook');
  }

  deleteWebhook(id: string): Promise<Root<'DeleteWebhook', 'deleteWebhook'>> {
    return this.call('DeleteWebhook', { id }, 'deleteWebhook');
  }

  rotateWebhookSecret(id: string): Promise<Root<'RotateWebhookSecret', 'rotateWebhookSecret'>> {
    return this.call('RotateWebhookSecret', { id }, 'rotateWebhookSecret');
  }

  /** Sends a TEST call now and returns its log row. */
  testWebhook(id: string, trigger?: WebhookTrigger): Promise<Root<'TestWebhook', 'testWebhook'>> {
    return this.call('TestWebhook', { id, trigger }, 'testWebhook');
  }

  /** The activity log, newest first. */
  webhookCalls(
    projectId: string,
    filter?: WebhookCallFilter,
    first?: number,
    after?: string,
  ): Promise<Root<'WebhookCalls', 'webhookCalls'>> {
    return this.call('WebhookCalls', { projectId, filter, first, after }, 'webhookCalls');
  }

  async webhookCallsCount(projectId: string, filter?: WebhookCallFilter): Promise<number> {
    const result = await this.call('WebhookCallsCount', { projectId, filter }, 'webhookCalls');
    return result.totalCount;
  }

  webhookCall(id: string): Promise<Root<'WebhookCall', 'webhookCall'>> {
    return this.call('WebhookCall', { id }, 'webhookCall');
  }

  /** Sends the call's event again (a REPLAY call) and returns the new log row. */
  replayWebhookCall(id: string): Promise<Root<'ReplayWebhookCall', 'replayWebhookCall'>> {
    return this.call('ReplayWebhookCall', { id }, 'replayWebhookCall');
  }

  // ---------------------------------------------------------------- transport

  /**
   * Sends any GraphQL document and returns its `data`. Variables that are `undefined` are
   * left out of the request, so the server applies its defaults.
   */
  async request<TData>(query: string, variables: Variables = {}, operationName?: string): Promise<TData> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.token}`,
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...deliveryHeaders(this.options.delivery),
        },
        body: JSON.stringify({ query, variables, ...(operationName ? { operationName } : {}) }),
      });
    } catch (cause) {
      throw new CmsApiError('NETWORK_ERROR', `Request to ${this.url} failed: ${reasonOf(cause)}`, { cause });
    }

    const status = response.status;
    let body: { data?: unknown; errors?: GraphQLErrorEntry[] } | undefined;
    try {
      body = (await response.json()) as typeof body;
    } catch (cause) {
      body = undefined;
      if (response.ok) {
        throw new CmsApiError('NETWORK_ERROR', `Invalid JSON in the response from ${this.url}`, { status, cause });
      }
    }

    // A GraphQL error answer may come with a 4xx (e.g. variables that fail validation under
    // application/graphql-response+json); its code says more than the status does.
    const errors = Array.isArray(body?.errors) ? body.errors : [];
    if (errors.length > 0) {
      const [first] = errors;
      const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
      throw new CmsApiError(code, String(first.message), { path: first.path, status, errors });
    }
    if (!response.ok) throw new CmsApiError('NETWORK_ERROR', `HTTP ${status} from ${this.url}`, { status });
    if (body === null || typeof body !== 'object' || body.data == null) {
      throw new CmsApiError('NETWORK_ERROR', `The response from ${this.url} has neither data nor errors`, { status });
    }
    return body.data as TData;
  }

  private async call<N extends OperationName, F extends keyof ResultOf<N>>(operationName: N, variables: VariablesOf<N>, field: F): Promise<ResultOf<N>[F]> {
    const data = await this.request<ResultOf<N>>(OPERATIONS[operationName], variables as Variables, operationName);
    return data[field];
  }
}

function deliveryHeaders(delivery: DeliveryContext | undefined): Record<string, string> {
  if (!delivery) return {};
  return { 'webhook-id': delivery.eventId, ...(delivery.webhookId ? { 'webhook-origin': delivery.webhookId } : {}) };
}

function reasonOf(cause: unknown): string {
  // Duck-typed, not `instanceof Error`: fetch's errors may come from another realm (jest, iframes).
  const messageOf = (value: unknown) =>
    typeof value === 'object' && value !== null && typeof (value as Error).message === 'string'
      ? (value as Error).message
      : undefined;
  const outer = messageOf(cause);
  if (outer === undefined) return String(cause);
  // undici reports "fetch failed" and puts the reason (ECONNREFUSED, ...) in `cause`.
  const inner = messageOf((cause as Error).cause);
  return inner === undefined ? outer : `${outer}: ${inner}`;
}
