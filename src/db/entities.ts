import { ApiToken } from '../cms/api-token.entity';
import { Blueprint } from '../cms/blueprint.entity';
import { Document } from '../cms/document.entity';
import { Project } from '../cms/project.entity';
import { ProjectMember } from '../cms/project-member.entity';
import { User } from '../cms/user.entity';
import { Delivery } from '../delivery/delivery.entity';
import { WebhookCall } from '../delivery/webhook-call.entity';
import { DomainEvent } from '../events/domain-event.entity';
import { DomainEventSubscriber } from '../events/domain-event.subscriber';
import { Webhook } from '../webhooks/webhook.entity';

export const ENTITIES = [User, ApiToken, Project, ProjectMember, Blueprint, Document, Webhook, DomainEvent, Delivery, WebhookCall];
export const SUBSCRIBERS = [DomainEventSubscriber];
