import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Blueprint } from './blueprint.entity';
import { Project } from './project.entity';

/** The numeric ids are part of the webhook payload (`document_status_id`): never renumber. */
export enum DocumentStatus {
  DRAFT = 0,
  CHANGED = 1,
  PUBLISHED = 2,
  ARCHIVED = 3,
}

@Entity({ name: 'document' })
@Index('document_project_created_idx', ['projectId', 'createdAt', 'id'])
export class Document {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: Project;

  @Index('document_blueprint_idx')
  @Column({ name: 'blueprint_id', type: 'uuid' })
  blueprintId: string;

  @ManyToOne(() => Blueprint, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'blueprint_id' })
  blueprint?: Blueprint;

  @Column({ name: 'status_id', type: 'smallint', default: DocumentStatus.DRAFT })
  statusId: DocumentStatus;

  @Column({ type: 'text', nullable: true })
  title: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  fields: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt: Date | null;
}
