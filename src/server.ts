import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Session } from './auth/access-watch';
import { bearerToken } from './auth/tokens';
import { isDatabaseUnavailable } from './db/errors';
import type { GraphQLContext } from './graphql/context';
import { formatError } from './graphql/format-error';
import { orUnavailable, unavailableStatusPlugin } from './graphql/unavailable';
import type { Services } from './services';

export interface HttpServer {
  server: http.Server;
  port: number;
  /** Flip /healthz to 503 so a load balancer stops sending before we stop serving. */
  markDraining(): void;
  close(): Promise<void>;
}

export async function startHttpServer(options: {
  schema: GraphQLSchema;
  services: Services;
  port: number;
  host?: string;
  log: (line: string) => void;
}): Promise<HttpServer> {
  const { schema, services, log } = options;
  const app = express();
  const server = http.createServer(app);
  let draining = false;

  const wsServer = new WebSocketServer({ server, path: '/graphql' });
  const wsCleanup = useServer<{ authorization?: string }, { actor?: GraphQLContext['actor']; session?: Session }>(
    {
      schema,
      // Subscriptions authenticate once, with the same bearer value as HTTP requests; the
      // session stays watched, so revoking the token closes the connection (AccessWatch).
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization;
        const { socket } = ctx.extra;
        let session;
        try {
          session = await services.accessWatch.openSession(bearerToken(typeof raw === 'string' ? raw : undefined), (code, reason) =>
            socket.close(code, reason),
          );
        } catch (error) {
          if (!isDatabaseUnavailable(error)) throw error;
          // 1013 "Try Again Later": graphql-ws clients retry; 4500 would read as a server bug.
          socket.close(1013, 'SERVICE_UNAVAILABLE: the database is unavailable; try again shortly');
          return false;
        }
        if (!session) {
          socket.close(4401, 'UNAUTHENTICATED: missing or unknown token in connectionParams.authorization');
          return false;
        }
        if (socket.readyState !== socket.OPEN) session.end(); // closed while authenticating: onClose has run
        ctx.extra.session = session;
        ctx.extra.actor = session.actor;
        return true;
      },
      onClose: (ctx) => ctx.extra.session?.end(),
      context: (ctx): GraphQLContext => ({ actor: ctx.extra.actor ?? null, services, memo: new Map() }),
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((error) => formatError(error.toJSON ? error.toJSON() : { message: error.message }, (error as GraphQLError).originalError ?? error, log)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: (formatted, error) => formatError(formatted, error, log),
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGTERM/SIGINT and stops everything in order; Apollo's own handler would race it.
    stopOnTerminationSignals: false,
    introspection: true,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
      unavailableStatusPlugin,
    ],
  });
  await apollo.start();

  app.get('/healthz', async (_req, res) => {
    if (draining) return void res.status(503).json({ status: 'draining' });
    try {
      await services.dataSource.query('SELECT 1');
      res.status(200).json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'database unavailable' });
    }
  });
  app.use(
    '/graphql',
    express.json({ limit: '2mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => ({
        actor: await orUnavailable(() => services.identity.authenticate(bearerToken(req.headers.authorization))),
        services,
        memo: new Map(),
      }),
    }),
  );

  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '0.0.0.0', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    server,
    port,
    markDraining: () => {
      draining = true;
    },
    close: async () => {
      draining = true;
      await apollo.stop();
    },
  };
}
