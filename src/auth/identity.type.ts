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

@ObjectType('ApiToken')
export class ApiTokenType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field()
  createdAt: Date;
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
