import { Field, ID, Int, ObjectType } from 'type-graphql';
import { UserType } from '../auth/identity.type';
import { Connection } from '../graphql/page.type';
import { JSONScalar } from '../graphql/scalars';
import { BlueprintVariant } from './blueprint.entity';
import { DocumentStatus } from './document.entity';
import { ProjectRole } from './roles';

@ObjectType('Project')
export class ProjectType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field()
  createdAt: Date;
}

@ObjectType('ProjectMember')
export class ProjectMemberType {
  @Field(() => ID)
  projectId: string;

  @Field(() => ID)
  userId: string;

  @Field(() => ProjectRole)
  role: ProjectRole;

  @Field(() => UserType)
  user: UserType;
}

@ObjectType('BlueprintField')
export class BlueprintFieldType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field()
  type: string;
}

@ObjectType('Blueprint')
export class BlueprintType {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  projectId: string;

  @Field()
  name: string;

  @Field()
  apiName: string;

  @Field(() => BlueprintVariant)
  variant: BlueprintVariant;

  @Field(() => [BlueprintFieldType])
  fields: BlueprintFieldType[];

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

@ObjectType('Document')
export class DocumentType {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  projectId: string;

  @Field(() => ID)
  blueprintId: string;

  @Field(() => Int, { description: 'The numeric status, as sent in webhook payloads (document_status_id)' })
  statusId: number;

  @Field(() => DocumentStatus)
  status: DocumentStatus;

  @Field(() => String, { nullable: true })
  title: string | null;

  @Field(() => JSONScalar, { description: 'An object keyed by field name' })
  fields: Record<string, unknown>;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;

  @Field(() => Date, { nullable: true })
  publishedAt: Date | null;

  @Field(() => BlueprintType)
  blueprint: BlueprintType;
}

@ObjectType('DocumentConnection')
export class DocumentConnection extends Connection(DocumentType, 'Document') {}
