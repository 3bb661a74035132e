import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { ErrorLink } from '@apollo/client/link/error';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient, type Client } from 'graphql-ws';

export type LiveStatus = 'connecting' | 'connected' | 'reconnecting';

/** A value React can subscribe to (useSyncExternalStore). */
export interface Store<T> {
  get(): T;
  subscribe(listener: () => void): () => void;
}

function store<T>(initial: T): Store<T> & { set(value: T): void } {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set: (next) => {
      value = next;
      listeners.forEach((l) => l());
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export interface Api {
  apollo: ApolloClient;
  /** The WebSocket's state, for the activity log's live indicator. */
  live: Store<LiveStatus>;
  dispose(): void;
}

/** Close codes after which reconnecting with the same token cannot help (src/server.ts). */
const FATAL_CLOSE_CODES = new Set([4401, 4403, 4400]);

/**
 * One client per signed-in token: queries and mutations over HTTP, the live log over the
 * graphql-ws protocol on the same path, both authenticated with the same bearer value.
 * `onUnauthenticated` runs when the server no longer knows the token (revoked, user deleted).
 */
export function createApi(token: string, onUnauthenticated: () => void): Api {
  const authorization = `Bearer ${token}`;
  const live = store<LiveStatus>('connecting');
  const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
  let everConnected = false;
  const ws: Client = createClient({
    url: wsUrl,
    connectionParams: { authorization },
    lazy: true,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: (event) => !(event instanceof CloseEvent && FATAL_CLOSE_CODES.has(event.code)),
    on: {
      connecting: () => live.set(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        everConnected = true;
        live.set('connected');
      },
      closed: (event) => {
        if (event instanceof CloseEvent && event.code === 4401) onUnauthenticated();
        else if (everConnected) live.set('reconnecting');
      },
    },
  });

  const http = new HttpLink({ uri: '/graphql', headers: { authorization } });
  const errors = new ErrorLink(({ error }) => {
    if (CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) onUnauthenticated();
  });
  const link = ApolloLink.from([errors, ApolloLink.split((op) => op.operationType === 'subscription', new GraphQLWsLink(ws), http)]);

  const apollo = new ApolloClient({
    link,
    cache: new InMemoryCache(),
    // Lists shown again (after a save elsewhere, or another person's change) refresh in the background.
    defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
  });
  return {
    apollo,
    live,
    dispose: () => {
      void ws.dispose();
      apollo.stop();
    },
  };
}
