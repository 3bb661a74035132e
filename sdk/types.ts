// Hand-written TypeScript types for the contract's GraphQL API (contract README, "Types the
// operations rely on"). Full object types hold every field the contract's operations select;
// each operation's result is a `Pick` of them, so a result type says exactly what its
// selection set fetches and nothing more.

// ------------------------------------------------------------------ scalars and enums

/** ISO-8601 timestamp in UTC, e.g. `2024-05-01T12:00:00.000Z`. */
export type DateTime = string;
/** Any JSON value (the `JSON` scalar). */
export type JSONValue = unknown;

export type WebhookTrigger =
  | 'DOCUMENT_FIELD_UPDATE'
  | 'DOCUMENT_CREATE'
  | 'DOCUMENT_UPDATE'
  | 'DOCUMENT_DELETE'
  | 'BLUEPRINT_CREATE'
  | 'BLUEPRINT_UPDATE'
  | 'BLUEPRINT_DELETE'
  | 'PROJECT_MEMBER_ASSIGNED'
  | 'PROJECT_MEMBER_DEASSIGNED';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type DocumentStatus = 'DRAFT' | 'CHANGED' | 'PUBLISHED' | 'ARCHIVED';
/** `statusId` of a document: DRAFT 0, CHANGED 1, PUBLISHED 2, ARCHIVED 3. */
export type DocumentStatusId = 0 | 1 | 2 | 3;

export type ProjectRole = 'OWNER' | 'ADMIN' | 'EDITOR' | 'VIEWER';

export type BlueprintVariant = 'DOCUMENT' | 'COMPONENT' | 'ASSET';

/** EVENT: caused by a CMS change (retries keep this kind); REPLAY; TEST. */
export type WebhookCallKind = 'EVENT' | 'REPLAY' | 'TEST';

// ------------------------------------------------------------------ inputs

export interface CreateUserInput {
  email: string;
  name?: string | null;
}

export interface CreateProjectInput {
  name: string;
}

export interface BlueprintFieldInput {
  name: string;
  /** e.g. `string`, `number`, `boolean`, `richtext`, `reference`, `asset`. */
  type: string;
}

export interface BlueprintInput {
  name: string;
  apiName?: string | null;
  /** Defaults to DOCUMENT. */
  variant?: BlueprintVariant | null;
  fields?: BlueprintFieldInput[] | null;
}

export interface BlueprintUpdateInput {
  name?: string | null;
  apiName?: string | null;
  /** Replaces the whole list. */
  fields?: BlueprintFieldInput[] | null;
}

/** A document's fields: an object keyed by field name. */
export type DocumentFields = Record<string, JSONValue>;

export interface DocumentInput {
  blueprintId: string;
  title?: string | null;
  fields?: DocumentFields | null;
}

export interface DocumentUpdateInput {
  title?: string | null;
  /** Keys given replace their values, a key set to `null` is removed, other keys stay. */
  fields?: DocumentFields | null;
}

export interface WebhookHeaderInput {
  name: string;
  /** Required on create; on update, omitting it keeps the stored value (secrets need not be re-sent). */
  value?: string | null;
  /** Defaults to false. A secret header's value is masked wherever it is read back. */
  secret?: boolean | null;
}

export interface WebhookInput {
  name: string;
  description?: string | null;
  /** Defaults to POST. */
  method?: HttpMethod | null;
  url: string;
  /** At least one. */
  triggers: WebhookTrigger[];
  headers?: WebhookHeaderInput[] | null;
  /** Only events of these blueprints; null means all. */
  blueprintIds?: string[] | null;
  /** Defaults to true. */
  enabled?: boolean | null;
}

/** Every field of `WebhookInput`, all optional; `headers` replaces the list. */
export interface WebhookUpdateInput {
  name?: string | null;
  description?: string | null;
  method?: HttpMethod | null;
  url?: string | null;
  triggers?: WebhookTrigger[] | null;
  headers?: WebhookHeaderInput[] | null;
  blueprintIds?: string[] | null;
  enabled?: boolean | null;
}

export interface WebhookCallFilter {
  webhookId?: string | null;
  eventId?: string | null;
  success?: boolean | null;
  trigger?: WebhookTrigger | null;
  kind?: WebhookCallKind | null;
  since?: DateTime | null;
  until?: DateTime | null;
}

// ------------------------------------------------------------------ objects

export interface User {
  id: string;
  email: string;
  name: string | null;
  isSuperAdmin: boolean;
}

export interface ApiToken {
  id: string;
  name: string;
  createdAt: DateTime;
}

export interface Project {
  id: string;
  name: string;
  createdAt: DateTime;
}

export interface ProjectMember {
  projectId: string;
  userId: string;
  role: ProjectRole;
  user: Pick<User, 'id' | 'email'>;
}

export interface BlueprintField {
  id: string;
  name: string;
  type: string;
}

export interface Blueprint {
  id: string;
  projectId: string;
  name: string;
  apiName: string;
  variant: BlueprintVariant;
  fields: BlueprintField[];
  createdAt: DateTime;
  updatedAt: DateTime;
}

/** A CMS document (named so it never shadows the DOM `Document` in frontend code). */
export interface CmsDocument {
  id: string;
  projectId: string;
  blueprintId: string;
  statusId: DocumentStatusId;
  status: DocumentStatus;
  title: string | null;
  fields: DocumentFields;
  createdAt: DateTime;
  updatedAt: DateTime;
  publishedAt: DateTime | null;
  blueprint: Pick<Blueprint, 'id' | 'name' | 'apiName'>;
}

export interface WebhookHeader {
  name: string;
  /** For a secret header: masked, e.g. `••••3gat`. */
  value: string;
  secret: boolean;
}

/** The `WebhookFields` fragment. */
export interface Webhook {
  id: string;
  projectId: string;
  name: string;
  description: string | null;
  method: HttpMethod;
  url: string;
  triggers: WebhookTrigger[];
  headers: WebhookHeader[];
  blueprintIds: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: DateTime;
  updatedAt: DateTime;
}

export interface HeaderPair {
  name: string;
  value: string;
}

/** One HTTP attempt: a row of the activity log (the `WebhookCallFields` fragment). */
export interface WebhookCall {
  id: string;
  webhookId: string;
  projectId: string;
  eventId: string;
  trigger: WebhookTrigger;
  kind: WebhookCallKind;
  attempt: number;
  success: boolean;
  /** Why the attempt failed: timeout, refused, blocked address, non-2xx. */
  error: string | null;
  durationMs: number | null;
  nextRetryAt: DateTime | null;
  createdAt: DateTime;
  requestMethod: HttpMethod;
  requestUrl: string;
  /** As sent, with secret header values masked. */
  requestHeaders: HeaderPair[];
  /** The exact body sent. */
  requestBody: string;
  responseStatusCode: number | null;
  responseHeaders: HeaderPair[] | null;
  /** Capped at 64 KiB. */
  responseBody: string | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<TNode> {
  edges: { cursor: string; node: TNode }[];
  pageInfo: PageInfo;
}

// ------------------------------------------------------------------ operation results

export type MeResult = Pick<User, 'id' | 'email' | 'name' | 'isSuperAdmin'>;
export type CreatedUser = Pick<User, 'id' | 'email' | 'name'>;
export interface CreatedApiToken {
  /** The bearer token itself; shown only here. */
  token: string;
  apiToken: ApiToken;
}

export type CreatedProject = Pick<Project, 'id' | 'name' | 'createdAt'>;
export type ProjectSummary = Pick<Project, 'id' | 'name'>;
export type AssignedProjectMember = Pick<ProjectMember, 'projectId' | 'userId' | 'role'>;

export type CreatedBlueprint = Pick<Blueprint, 'id' | 'projectId' | 'name' | 'apiName' | 'variant' | 'fields'>;
export type UpdatedBlueprint = Pick<Blueprint, 'id' | 'name' | 'apiName' | 'fields' | 'updatedAt'>;
export type BlueprintSummary = Pick<Blueprint, 'id' | 'name' | 'apiName'>;

export type CreatedDocument = Pick<
  CmsDocument,
  'id' | 'projectId' | 'blueprintId' | 'statusId' | 'status' | 'title' | 'fields' | 'createdAt'
>;
export type UpdatedDocument = Pick<CmsDocument, 'id' | 'statusId' | 'status' | 'title' | 'fields' | 'updatedAt'>;
export type DocumentStatusChange = Pick<CmsDocument, 'id' | 'statusId' | 'status' | 'publishedAt' | 'updatedAt'>;
export type DocumentSummary = Pick<CmsDocument, 'id' | 'title' | 'statusId'>;

export interface WebhookWithStats extends Webhook {
  successfulCallsLast30Days: number;
  failedCallsLast30Days: number;
}
export interface WebhookWithSecret extends Webhook {
  /** `whsec_<base64>`: the key `verifyWebhook` needs. */
  signingSecret: string;
}
export interface RotatedWebhookSecret {
  id: string;
  signingSecret: string;
}

export interface WebhookCallWithCurl extends WebhookCall {
  /** A ready command that re-sends the same request (secrets masked). */
  curl: string;
}

export interface DocumentsOptions {
  blueprintId?: string | null;
  /** Page size; the server caps it at 100. */
  first?: number | null;
  after?: string | null;
}
