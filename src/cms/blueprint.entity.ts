import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Project } from './project.entity';

export enum BlueprintVariant {
  DOCUMENT = 'DOCUMENT',
  COMPONENT = 'COMPONENT',
  ASSET = 'ASSET',
}

export interface BlueprintField {
  id: string;
  name: string;
  type: string;
}

@Entity({ name: 'blueprint' })
@Index('blueprint_project_api_name_key', ['projectId', 'apiName'], { unique: true })
export class Blueprint {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: Project;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'api_name', type: 'text' })
  apiName: string;

  @Column({ type: 'text', default: BlueprintVariant.DOCUMENT })
  variant: BlueprintVariant;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  fields: BlueprintField[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
