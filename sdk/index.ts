// The SDK for webhook receivers and frontend code: verify a CMS webhook, then talk to the API.
export {
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type VerifyOptions,
  type WebhookHeaders,
  type WebhookPayload,
  type WebhookTriggerName,
  type WebhookVerificationFailure,
} from './verify';
export { CmsApiError, CmsClient, type CmsClientOptions, type DeliveryContext, type CmsErrorCode, type GraphQLErrorEntry, type Root } from './client';
export { FRAGMENTS, OPERATIONS, SDK_OPERATIONS, type OperationName, type ResultOf, type SdkOperationName, type VariablesOf } from './operations';
export type * from './types';
/** Typed documents for any typed-document-node GraphQL client, and every operation's result and variables types. */
export * from './generated/graphql';
