import type { AccessService } from '../auth/access.service';
import type { AccessWatch } from '../auth/access-watch';
import type { Actor } from '../auth/actor';
import { requireUuid } from '../common/app-error';
import { ProjectRole } from '../cms/roles';
import type { CallStream } from '../webhook-calls/webhook-call.pubsub';
import type { HealthFeed, WebhookHealthChange } from './health-feed';

/**
 * Who may watch health changes: ADMIN and up, like webhooks and their log. The role is checked
 * before the stream exists and again whenever access changes (AccessWatch), so a removed
 * member's stream ends with NOT_FOUND, a demoted one's with FORBIDDEN.
 */
export class WebhookHealthService {
  constructor(
    private readonly access: AccessService,
    private readonly feed: HealthFeed,
    private readonly watch: AccessWatch,
  ) {}

  async live(actor: Actor | null, projectId: string): Promise<CallStream<WebhookHealthChange>> {
    const project = requireUuid('projectId', projectId);
    const caller = this.access.requireActor(actor);
    return this.watch.openStream(
      caller,
      project,
      async () => {
        await this.access.requireRole(caller, project, ProjectRole.ADMIN, 'watch webhook health');
      },
      () => this.feed.subscribe(project),
    );
  }
}
