import { Field, ID, InputType } from 'type-graphql';
import { DocumentStatus } from '../cms/document.entity';
import { BodyFormat } from '../delivery/body-template';
import { HttpMethod, WebhookTrigger } from './triggers';
import { ActorFilterMode } from './webhook-filters';

@InputType({ description: 'Include (only) or exclude changes made by these users or with these API tokens; at least one id' })
export class WebhookActorFilterInput {
  @Field(() => ActorFilterMode)
  mode: ActorFilterMode;

  @Field(() => [ID], { nullable: true, description: 'Members of the project' })
  userIds?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'API tokens of members of the project (apiTokens lists their ids)' })
  tokenIds?: string[] | null;
}

@InputType()
export class WebhookHeaderInput {
  @Field()
  name: string;

  @Field(() => String, { nullable: true, description: 'Required on create; on update, omit it to keep the stored value' })
  value?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Default false on create; on update, omitted keeps the stored flag of a header whose value is omitted',
  })
  secret?: boolean | null;
}

@InputType()
export class WebhookInput {
  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => HttpMethod, { nullable: true, defaultValue: HttpMethod.POST })
  method?: HttpMethod | null;

  @Field()
  url: string;

  @Field(() => [WebhookTrigger])
  triggers: WebhookTrigger[];

  @Field(() => [WebhookHeaderInput], { nullable: true })
  headers?: WebhookHeaderInput[] | null;

  @Field(() => [ID], { nullable: true })
  blueprintIds?: string[] | null;

  @Field(() => [DocumentStatus], {
    nullable: true,
    description: "Document events only: the document's status must be one of these (e.g. [PUBLISHED]); null = any. Other events pass",
  })
  documentStatuses?: DocumentStatus[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'DOCUMENT_FIELD_UPDATE only: sent when one of these changed (field names, or title); null = any. Other triggers pass',
  })
  changedFields?: string[] | null;

  @Field(() => WebhookActorFilterInput, { nullable: true, description: 'Who made the change; null = anyone' })
  actorFilter?: WebhookActorFilterInput | null;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  enabled?: boolean | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Send a W3C traceparent header continuing the trace of the change (when the server traces); reserves the traceparent and tracestate header names' })
  sendTraceContext?: boolean | null;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Deliver one at a time, in event order: a failing delivery holds back the ones after it until it succeeds or is given up. Default false' })
  fifo?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Sent instead of the contract payload: JSON (or text, with bodyFormat TEXT) whose strings hold {{ placeholders }}; null = the contract payload' })
  bodyTemplate?: string | null;

  @Field(() => BodyFormat, { nullable: true, description: 'Default JSON' })
  bodyFormat?: BodyFormat | null;

  @Field(() => String, { nullable: true, description: 'The content-type of a templated body; default application/json (JSON) or text/plain; charset=utf-8 (TEXT)' })
  bodyContentType?: string | null;
}

@InputType()
export class WebhookUpdateInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => HttpMethod, { nullable: true })
  method?: HttpMethod | null;

  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => [WebhookTrigger], { nullable: true })
  triggers?: WebhookTrigger[] | null;

  @Field(() => [WebhookHeaderInput], { nullable: true, description: 'Replaces the list' })
  headers?: WebhookHeaderInput[] | null;

  @Field(() => [ID], { nullable: true })
  blueprintIds?: string[] | null;

  @Field(() => [DocumentStatus], {
    nullable: true,
    description: "Document events only: the document's status must be one of these (e.g. [PUBLISHED]); null = any. Other events pass; omitted keeps, null removes",
  })
  documentStatuses?: DocumentStatus[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'DOCUMENT_FIELD_UPDATE only: sent when one of these changed (field names, or title); null = any. Other triggers pass',
  })
  changedFields?: string[] | null;

  @Field(() => WebhookActorFilterInput, { nullable: true, description: 'Who made the change; null = anyone' })
  actorFilter?: WebhookActorFilterInput | null;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Send a W3C traceparent header continuing the trace of the change (when the server traces); reserves the traceparent and tracestate header names' })
  sendTraceContext?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'Turned off, what is queued goes out concurrently at once' })
  fifo?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Omitted keeps it; null goes back to the contract payload' })
  bodyTemplate?: string | null;

  @Field(() => BodyFormat, { nullable: true })
  bodyFormat?: BodyFormat | null;

  @Field(() => String, { nullable: true, description: "Omitted keeps it; null goes back to the format's default" })
  bodyContentType?: string | null;
}

@InputType({ description: 'Body settings to preview instead of the saved ones (a form not saved yet)' })
export class WebhookBodyDraftInput {
  @Field(() => String, { nullable: true, description: 'null = the contract payload' })
  bodyTemplate?: string | null;

  @Field(() => BodyFormat, { nullable: true, defaultValue: BodyFormat.JSON })
  bodyFormat?: BodyFormat | null;

  @Field(() => String, { nullable: true })
  bodyContentType?: string | null;
}
