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
export { CmsApiError, CmsClient, type CmsClientOptions, type CmsErrorCode, type GraphQLErrorEntry } from './client';
export * from './operations';
export type * from './types';
