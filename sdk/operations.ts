// GraphQL documents the SDK sends, copied character for character from the contract's
// operations.graphql: the server's contract test validates that file, so the SDK must send
// the very same text (an operation, then each fragment it spreads, separated by a blank line).
// Do not reformat; change the contract first, then copy the definition here again.

export const WEBHOOK_FIELDS_FRAGMENT = `fragment WebhookFields on Webhook {
  id
  projectId
  name
  description
  method
  url
  triggers
  headers { name value secret }
  blueprintIds
  enabled
  disabledReason
  createdAt
  updatedAt
}`;

export const WEBHOOK_CALL_FIELDS_FRAGMENT = `fragment WebhookCallFields on WebhookCall {
  id
  webhookId
  projectId
  eventId
  trigger
  kind
  attempt
  success
  error
  durationMs
  nextRetryAt
  createdAt
  requestMethod
  requestUrl
  requestHeaders { name value }
  requestBody
  responseStatusCode
  responseHeaders { name value }
  responseBody
}`;

export const ME_QUERY = `query Me { me { id email name isSuperAdmin } }`;

export const CREATE_USER_MUTATION = `mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) { id email name }
}`;

export const CREATE_API_TOKEN_MUTATION = `mutation CreateApiToken($userId: ID, $name: String!) {
  createApiToken(userId: $userId, name: $name) { token apiToken { id name createdAt } }
}`;

export const CREATE_PROJECT_MUTATION = `mutation CreateProject($input: CreateProjectInput!) {
  createProject(input: $input) { id name createdAt }
}`;

export const PROJECTS_QUERY = `query Projects { projects { id name } }`;

export const ASSIGN_PROJECT_MEMBER_MUTATION = `mutation AssignProjectMember($projectId: ID!, $userId: ID!, $role: ProjectRole!) {
  assignProjectMember(projectId: $projectId, userId: $userId, role: $role) { projectId userId role }
}`;

export const DEASSIGN_PROJECT_MEMBER_MUTATION = `mutation DeassignProjectMember($projectId: ID!, $userId: ID!) {
  deassignProjectMember(projectId: $projectId, userId: $userId)
}`;

export const PROJECT_MEMBERS_QUERY = `query ProjectMembers($projectId: ID!) {
  projectMembers(projectId: $projectId) { projectId userId role user { id email } }
}`;

export const CREATE_BLUEPRINT_MUTATION = `mutation CreateBlueprint($projectId: ID!, $input: BlueprintInput!) {
  createBlueprint(projectId: $projectId, input: $input) {
    id projectId name apiName variant fields { id name type }
  }
}`;

export const UPDATE_BLUEPRINT_MUTATION = `mutation UpdateBlueprint($id: ID!, $input: BlueprintUpdateInput!) {
  updateBlueprint(id: $id, input: $input) { id name apiName fields { id name type } updatedAt }
}`;

export const DELETE_BLUEPRINT_MUTATION = `mutation DeleteBlueprint($id: ID!) { deleteBlueprint(id: $id) }`;

export const BLUEPRINT_QUERY = `query Blueprint($id: ID!) {
  blueprint(id: $id) { id projectId name apiName variant fields { id name type } createdAt updatedAt }
}`;

export const BLUEPRINTS_QUERY = `query Blueprints($projectId: ID!) { blueprints(projectId: $projectId) { id name apiName } }`;

export const CREATE_DOCUMENT_MUTATION = `mutation CreateDocument($projectId: ID!, $input: DocumentInput!) {
  createDocument(projectId: $projectId, input: $input) {
    id projectId blueprintId statusId status title fields createdAt
  }
}`;

export const UPDATE_DOCUMENT_MUTATION = `mutation UpdateDocument($id: ID!, $input: DocumentUpdateInput!) {
  updateDocument(id: $id, input: $input) { id statusId status title fields updatedAt }
}`;

export const SET_DOCUMENT_STATUS_MUTATION = `mutation SetDocumentStatus($id: ID!, $status: DocumentStatus!) {
  setDocumentStatus(id: $id, status: $status) { id statusId status publishedAt updatedAt }
}`;

export const DELETE_DOCUMENT_MUTATION = `mutation DeleteDocument($id: ID!) { deleteDocument(id: $id) }`;

export const DOCUMENT_QUERY = `query Document($id: ID!) {
  document(id: $id) {
    id projectId blueprintId statusId status title fields createdAt updatedAt publishedAt
    blueprint { id name apiName }
  }
}`;

export const DOCUMENTS_QUERY = `query Documents($projectId: ID!, $blueprintId: ID, $first: Int, $after: String) {
  documents(projectId: $projectId, blueprintId: $blueprintId, first: $first, after: $after) {
    edges { cursor node { id title statusId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const WEBHOOKS_QUERY = `query Webhooks($projectId: ID!) {
  webhooks(projectId: $projectId) { ...WebhookFields successfulCallsLast30Days failedCallsLast30Days }
}

${WEBHOOK_FIELDS_FRAGMENT}`;

export const WEBHOOK_QUERY = `query Webhook($id: ID!) { webhook(id: $id) { ...WebhookFields signingSecret } }

${WEBHOOK_FIELDS_FRAGMENT}`;

export const CREATE_WEBHOOK_MUTATION = `mutation CreateWebhook($projectId: ID!, $input: WebhookInput!) {
  createWebhook(projectId: $projectId, input: $input) { ...WebhookFields signingSecret }
}

${WEBHOOK_FIELDS_FRAGMENT}`;

export const UPDATE_WEBHOOK_MUTATION = `mutation UpdateWebhook($id: ID!, $input: WebhookUpdateInput!) {
  updateWebhook(id: $id, input: $input) { ...WebhookFields }
}

${WEBHOOK_FIELDS_FRAGMENT}`;

export const DELETE_WEBHOOK_MUTATION = `mutation DeleteWebhook($id: ID!) { deleteWebhook(id: $id) }`;

export const ROTATE_WEBHOOK_SECRET_MUTATION = `mutation RotateWebhookSecret($id: ID!) { rotateWebhookSecret(id: $id) { id signingSecret } }`;

export const TEST_WEBHOOK_MUTATION = `mutation TestWebhook($id: ID!, $trigger: WebhookTrigger) {
  testWebhook(id: $id, trigger: $trigger) { ...WebhookCallFields }
}

${WEBHOOK_CALL_FIELDS_FRAGMENT}`;

export const WEBHOOK_CALLS_QUERY = `query WebhookCalls($projectId: ID!, $filter: WebhookCallFilter, $first: Int, $after: String) {
  webhookCalls(projectId: $projectId, filter: $filter, first: $first, after: $after) {
    edges { cursor node { ...WebhookCallFields } }
    pageInfo { hasNextPage endCursor }
  }
}

${WEBHOOK_CALL_FIELDS_FRAGMENT}`;

export const WEBHOOK_CALLS_COUNT_QUERY = `query WebhookCallsCount($projectId: ID!, $filter: WebhookCallFilter) {
  webhookCalls(projectId: $projectId, filter: $filter, first: 1) { totalCount }
}`;

export const WEBHOOK_CALL_QUERY = `query WebhookCall($id: ID!) { webhookCall(id: $id) { ...WebhookCallFields curl } }

${WEBHOOK_CALL_FIELDS_FRAGMENT}`;

export const REPLAY_WEBHOOK_CALL_MUTATION = `mutation ReplayWebhookCall($id: ID!) { replayWebhookCall(id: $id) { ...WebhookCallFields } }

${WEBHOOK_CALL_FIELDS_FRAGMENT}`;

export const WEBHOOK_CALL_LOGGED_SUBSCRIPTION = `subscription WebhookCallLogged($projectId: ID!, $webhookId: ID) {
  webhookCallLogged(projectId: $projectId, webhookId: $webhookId) { ...WebhookCallFields }
}

${WEBHOOK_CALL_FIELDS_FRAGMENT}`;

/** Every operation document by its operation name, for contract tests and custom callers. */
export const OPERATIONS = {
  Me: ME_QUERY,
  CreateUser: CREATE_USER_MUTATION,
  CreateApiToken: CREATE_API_TOKEN_MUTATION,
  CreateProject: CREATE_PROJECT_MUTATION,
  Projects: PROJECTS_QUERY,
  AssignProjectMember: ASSIGN_PROJECT_MEMBER_MUTATION,
  DeassignProjectMember: DEASSIGN_PROJECT_MEMBER_MUTATION,
  ProjectMembers: PROJECT_MEMBERS_QUERY,
  CreateBlueprint: CREATE_BLUEPRINT_MUTATION,
  UpdateBlueprint: UPDATE_BLUEPRINT_MUTATION,
  DeleteBlueprint: DELETE_BLUEPRINT_MUTATION,
  Blueprint: BLUEPRINT_QUERY,
  Blueprints: BLUEPRINTS_QUERY,
  CreateDocument: CREATE_DOCUMENT_MUTATION,
  UpdateDocument: UPDATE_DOCUMENT_MUTATION,
  SetDocumentStatus: SET_DOCUMENT_STATUS_MUTATION,
  DeleteDocument: DELETE_DOCUMENT_MUTATION,
  Document: DOCUMENT_QUERY,
  Documents: DOCUMENTS_QUERY,
  Webhooks: WEBHOOKS_QUERY,
  Webhook: WEBHOOK_QUERY,
  CreateWebhook: CREATE_WEBHOOK_MUTATION,
  UpdateWebhook: UPDATE_WEBHOOK_MUTATION,
  DeleteWebhook: DELETE_WEBHOOK_MUTATION,
  RotateWebhookSecret: ROTATE_WEBHOOK_SECRET_MUTATION,
  TestWebhook: TEST_WEBHOOK_MUTATION,
  WebhookCalls: WEBHOOK_CALLS_QUERY,
  WebhookCallsCount: WEBHOOK_CALLS_COUNT_QUERY,
  WebhookCall: WEBHOOK_CALL_QUERY,
  ReplayWebhookCall: REPLAY_WEBHOOK_CALL_MUTATION,
  WebhookCallLogged: WEBHOOK_CALL_LOGGED_SUBSCRIPTION,
} as const;

export type OperationName = keyof typeof OPERATIONS;

/** The contract's fragments by name. */
export const FRAGMENTS = {
  WebhookFields: WEBHOOK_FIELDS_FRAGMENT,
  WebhookCallFields: WEBHOOK_CALL_FIELDS_FRAGMENT,
} as const;
