import { Field, ID, InputType } from 'type-graphql';
import { JSONScalar } from '../graphql/scalars';
import { BlueprintVariant } from './blueprint.entity';

@InputType()
export class CreateProjectInput {
  @Field()
  name: string;
}

@InputType()
export class BlueprintFieldInput {
  @Field()
  name: string;

  @Field()
  type: string;
}

@InputType()
export class BlueprintInput {
  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  apiName?: string | null;

  @Field(() => BlueprintVariant, { nullable: true, defaultValue: BlueprintVariant.DOCUMENT })
  variant?: BlueprintVariant | null;

  @Field(() => [BlueprintFieldInput], { nullable: true })
  fields?: BlueprintFieldInput[] | null;
}

@InputType()
export class BlueprintUpdateInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  apiName?: string | null;

  @Field(() => [BlueprintFieldInput], { nullable: true, description: 'Replaces the list; fields keeping their name keep their id' })
  fields?: BlueprintFieldInput[] | null;
}

@InputType()
export class DocumentInput {
  @Field(() => ID)
  blueprintId: string;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'An object keyed by field name' })
  fields?: unknown;
}

@InputType()
export class DocumentUpdateInput {
  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Keys given replace their values, a key set to null is removed, other keys stay' })
  fields?: unknown;
}
