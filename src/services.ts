import { DataSource } from 'typeorm';
import { AccessService } from './auth/access.service';
import { IdentityService } from './auth/identity.service';
import { BlueprintService } from './cms/blueprint.service';
import { DocumentService } from './cms/document.service';
import { ProjectService } from './cms/project.service';
import { WebhookService } from './webhooks/webhook.service';

/** The composition root: every service built once per process from the DataSource. */
export function createServices(dataSource: DataSource) {
  const access = new AccessService(dataSource);
  return {
    dataSource,
    access,
    identity: new IdentityService(dataSource),
    projects: new ProjectService(dataSource, access),
    blueprints: new BlueprintService(dataSource, access),
    documents: new DocumentService(dataSource, access),
    webhooks: new WebhookService(dataSource, access),
  };
}

export type Services = ReturnType<typeof createServices>;
