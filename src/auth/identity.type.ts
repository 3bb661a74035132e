import { Field, ID, InputType, ObjectType } from 'type-graphql';

@ObjectType('User')
export class UserType {
  @Field(() => ID)
  id: string;

  @Field()
  email: string;

  @Field(() => String, { nullable: true })
  name: string | null;

  @Field()
  isSuperAdmin: boolean;
}

/** What is shown of a token: never the token itself or its hash (ApiToken the entity holds the hash). */
@ObjectType('ApiToken')
export class ApiTokenType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When the token last authenticated a request, to the minute' })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'Set once the token is revoked; a revoked token authenticates nothing' })
  revokedAt: Date | null;
}

export function toApiTokenType(token: { id: string; name: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }): ApiTokenType {
  return { id: token.id, name: token.name, createdAt: token.createdAt, lastUsedAt: token.lastUsedAt, revokedAt: token.revokedAt };
}

@ObjectType('CreatedApiToken', { description: 'The token is shown here once; only its hash is stored.' })
export class CreatedApiTokenType {
  @Field()
  token: string;

  @Field(() => ApiTokenType)
  apiToken: ApiTokenType;
}

@InputType()
export class CreateUserInput {
  @Field()
  email: string;

  @Field(() => String, { nullable: true })
  name?: string | null;
}
