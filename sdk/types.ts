// Names for the API's types, as generated from the schema and the operations (generated/graphql.ts):
// each is what an operation actually selects, so a result type never promises a field that
// was not fetched. Inputs and enums are re-exported as generated.
import type {
  BlueprintQuery,
  CreateApiTokenMutation,
  DocumentQuery,
  DocumentsQuery,
  MeQuery,
  WebhookCallFieldsFragment,
  WebhookCallQuery,
  WebhookEventsSubscription,
  WebhookFieldsFragment,
  WebhookQuery,
  WebhooksQuery,
} from './generated/graphql';

export type {
  BlueprintFieldInput,
  BlueprintInput,
  BlueprintUpdateInput,
  BlueprintVariant,
  CreateProjectInput,
  CreateUserInput,
  DocumentInput,
  DocumentStatus,
  DocumentUpdateInput,
  HttpMethod,
  ProjectRole,
  WebhookCallFilter,
  WebhookCallKind,
  WebhookHeaderInput,
  WebhookInput,
  WebhookTrigger,
  WebhookUpdateInput,
} from './generated/graphql';

/** ISO-8601 timestamp in UTC, e.g. `2024-05-01T12:00:00.000Z`. */
export type DateTime = string;

export type MeResult = MeQuery['me'];
export type CreatedApiToken = CreateApiTokenMutation['createApiToken'];

/** A CMS document (named so it never shadows the DOM `Document` in frontend code). */
export type CmsDocument = DocumentQuery['document'];
export type Blueprint = BlueprintQuery['blueprint'];
export type Connection<TNode> = { edges: Array<{ cursor: string; node: TNode }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
export type DocumentSummary = DocumentsQuery['documents']['edges'][number]['node'];

/** The `WebhookFields` fragment. Secret header values are masked (`••••3gat`). */
export type Webhook = WebhookFieldsFragment;
export type WebhookWithStats = WebhooksQuery['webhooks'][number];
export type WebhookWithSecret = WebhookQuery['webhook'];

/** One HTTP attempt: a row of the activity log (the `WebhookCallFields` fragment). */
export type WebhookCall = WebhookCallFieldsFragment;
export type WebhookCallWithCurl = WebhookCallQuery['webhookCall'];

/** An event as the `webhookEvents` subscription streams it: the exact body its webhook is sent. */
export type WebhookEvent = WebhookEventsSubscription['webhookEvents'];

export interface DocumentsOptions {
  blueprintId?: string | null;
  /** Page size; the server caps it at 100. */
  first?: number | null;
  after?: string | null;
}
