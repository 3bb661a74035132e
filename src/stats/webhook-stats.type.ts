import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { StatsBucket } from './stats-buckets';

registerEnumType(StatsBucket, { name: 'StatsBucket', description: 'HOUR: UTC hours; DAY: UTC days' });

const PERCENTILE =
  'Approximate, an upper estimate: the upper bound of the duration-histogram bucket that holds this percentile of all calls ' +
  '(bounds grow by about √2: 1, 2, 3, 4, 6, 8, 11, 16, … 65536 ms), never above the slowest call; null without calls';

@ObjectType('WebhookStatsBucket')
export class WebhookStatsBucketType {
  @Field({ description: 'Start of the UTC hour or day' })
  start: Date;

  @Field(() => Int)
  succeeded: number;

  @Field(() => Int)
  failed: number;

  @Field(() => Int, { nullable: true, description: `Median duration. ${PERCENTILE}` })
  p50DurationMs: number | null;

  @Field(() => Int, { nullable: true, description: `95th percentile duration. ${PERCENTILE}` })
  p95DurationMs: number | null;
}

@ObjectType('WebhookStats', {
  description:
    'Calls of one webhook (every kind and attempt) per UTC hour or day, from hourly rollups kept as calls are logged. ' +
    'Rollups are not rewritten when retention deletes old log rows, so older periods keep their numbers.',
})
export class WebhookStatsType {
  @Field(() => ID)
  webhookId: string;

  @Field(() => StatsBucket)
  bucket: StatsBucket;

  @Field({ description: '`from` rounded down to the start of its bucket' })
  from: Date;

  @Field()
  to: Date;

  @Field(() => Int, { description: 'Over the whole range' })
  succeeded: number;

  @Field(() => Int, { description: 'Over the whole range' })
  failed: number;

  @Field(() => Int, { nullable: true, description: `Over the whole range. ${PERCENTILE}` })
  p50DurationMs: number | null;

  @Field(() => Int, { nullable: true, description: `Over the whole range. ${PERCENTILE}` })
  p95DurationMs: number | null;

  @Field(() => [WebhookStatsBucketType], { description: 'Every bucket from `from` up to `to`, oldest first, empty ones included' })
  buckets: WebhookStatsBucketType[];
}

@ObjectType('WebhookLastCall', { description: "The webhook's most recent logged call" })
export class WebhookLastCallType {
  @Field(() => ID, { description: 'The call (webhookCall(id:) has its details)' })
  id: string;

  @Field()
  createdAt: Date;

  @Field()
  success: boolean;

  @Field(() => Int, { nullable: true, description: 'Null when no response arrived' })
  responseStatusCode: number | null;

  @Field(() => String, { nullable: true })
  error: string | null;

  @Field(() => Int)
  durationMs: number;
}
