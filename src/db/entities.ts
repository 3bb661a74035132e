import { ApiToken } from '../auth/api-token.entity';
import { Blueprint } from '../cms/blueprint.entity';
import { Document } from '../cms/document.entity';
import { Project } from '../cms/project.entity';
import { ProjectMember } from '../cms/project-member.entity';
import { User } from '../auth/user.entity';
import { Delivery } from '../delivery/delivery.entity';
import { WebhookCall } from '../webhook-calls/webhook-call.entity';
import { DomainEvent } from '../events/domain-event.entity';
import { DomainEventSubscriber } from '../events/domain-event.subscriber';
import { Webhook } from '../webhooks/webhook.entity';

export const ENTITIES = [User, ApiToken, Project, ProjectMember, Blueprint, Document, Webhook, DomainEvent, Delivery, WebhookCall];
export const SUBSCRIBERS = [DomainEventSubscriber];
