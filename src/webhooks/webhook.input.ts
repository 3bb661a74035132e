import { Field, ID, InputType } from 'type-graphql';
import { BodyFormat } from '../delivery/body-template';
import { HttpMethod, WebhookTrigger } from './triggers';

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

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  enabled?: boolean | null;

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

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;

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
