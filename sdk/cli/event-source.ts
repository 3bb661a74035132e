import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { WebhookTrigger } from '../generated/graphql';
import { SDK_OPERATIONS } from '../operations';
import type { WebhookEvent } from '../types';

/**
 * The webhookEvents subscription, kept up: when the connection drops or the server restarts,
 * it connects again with backoff and asks for the events after the last one it received, so
 * the server replays whatever happened meanwhile (up to its limit, MAX_REPLAY_EVENTS there).
 * graphql-ws's own retry would re-send the first subscription unchanged, without `after`,
 * so the loop is ours and graphql-ws makes one connection at a time.
 */
export interface EventSourceOptions {
  wsUrl: string;
  token: string;
  projectId: string;
  webhookId?: string;
  triggers?: WebhookTrigger[];
  onEvent(event: WebhookEvent): void;
  notice(text: string): void;
  warn(text: string): void;
}

/** Why the stream stopped for good: the server refused it in a way trying again cannot fix. */
export class StreamRefused extends Error {
  override readonly name = 'StreamRefused';
}

type GraphQLErrorLike = { message: string; extensions?: { code?: string; field?: string } };
type Ended = { errors: GraphQLErrorLike[] } | { closed: string; code?: number } | { completed: true };

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

export class EventSource {
  private lastEventId: string | undefined;
  private stopped = false;
  private dispose: (() => void) | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly options: EventSourceOptions) {}

  /** Runs until stop() (resolves) or a refusal that retrying cannot fix (rejects with StreamRefused). */
  async run(onFirstConnection: () => void): Promise<void> {
    let failures = 0;
    let announced = false;
    while (!this.stopped) {
      const resumingAfter = this.lastEventId;
      const ended = await this.once(() => {
        failures = 0;
        if (!announced) onFirstConnection();
        else this.options.notice(resumingAfter ? `reconnected; replaying what happened after event ${resumingAfter}` : 'reconnected');
        announced = true;
      });
      if (this.stopped) return;
      if ('errors' in ended) {
        const [error] = ended.errors;
        const code = error?.extensions?.code;
        if (resumingAfter && (error?.extensions?.field === 'after' || (code === 'NOT_FOUND' && /^Event\b/.test(error.message)))) {
          this.options.warn(`cannot resume after event ${resumingAfter} (${error.message}): events since then are skipped; going on with new ones`);
          this.lastEventId = undefined;
          continue;
        }
        if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'NOT_FOUND' || code === 'BAD_USER_INPUT') {
          throw new StreamRefused(`the CMS ended the event stream: ${error.message} (${code})`);
        }
        this.options.warn(`the event stream failed: ${error?.message ?? 'unknown error'}${code ? ` (${code})` : ''}`);
      } else if ('closed' in ended) {
        if (ended.code === 4401 || ended.code === 4403) throw new StreamRefused(`the CMS closed the connection: ${ended.closed}`);
      }
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** failures);
      failures += 1;
      const why = 'closed' in ended ? ended.closed : 'completed' in ended ? 'the server ended the stream' : 'see above';
      this.options.warn(`connection lost (${why}); reconnecting in ${(delay / 1000).toFixed(1)} s`);
      await this.pause(delay);
    }
  }

  stop(): void {
    this.stopped = true;
    this.dispose?.();
    this.wakeUp?.();
  }

  /** One connection and one subscription, until either ends. */
  private once(onConnected: () => void): Promise<Ended> {
    return new Promise((resolve) => {
      let settled = false;
      const client = createClient({
        url: this.options.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${this.options.token}` },
        retryAttempts: 0,
        // A ping every 10 s notices a silently dead connection (a laptop that slept, a NAT that forgot).
        keepAlive: 10_000,
        on: { connected: () => onConnected() },
      });
      const finish = (ended: Ended) => {
        if (settled) return;
        settled = true;
        this.dispose = undefined;
        void client.dispose();
        resolve(ended);
      };
      this.dispose = () => finish({ completed: true });
      const { projectId, webhookId, triggers } = this.options;
      client.subscribe<{ webhookEvents: WebhookEvent }>(
        { query: SDK_OPERATIONS.WebhookEvents, operationName: 'WebhookEvents', variables: { projectId, webhookId, triggers, after: this.lastEventId } },
        {
          next: (result) => {
            if (result.errors?.length) return finish({ errors: result.errors as GraphQLErrorLike[] });
            const event = result.data?.webhookEvents;
            if (!event || settled) return;
            this.lastEventId = event.id;
            this.options.onEvent(event);
          },
          error: (error) => finish(describe(error)),
          complete: () => finish({ completed: true }),
        },
      );
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

/** graphql-ws reports a GraphQL error list, a CloseEvent, or a socket error event. */
function describe(error: unknown): Ended {
  if (Array.isArray(error)) return { errors: error as GraphQLErrorLike[] };
  const value = error as { code?: unknown; reason?: unknown; message?: unknown; error?: { code?: string; message?: string } };
  if (typeof value?.code === 'number') return { closed: `${value.code}${value.reason ? ` ${String(value.reason)}` : ''}`, code: value.code };
  const cause = value?.error?.code ?? value?.error?.message ?? (typeof value?.message === 'string' ? value.message : String(error));
  return { closed: cause };
}
