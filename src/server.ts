import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Session } from './auth/access-watch';
import type { Actor } from './auth/actor';
import { bearerToken } from './auth/tokens';
import { mountConsole } from './console/static';
import type { QueryLimits, WebSocketLimits } from './config/config';
import { isDatabaseUnavailable } from './db/errors';
import { parseDeliveryCause } from './events/delivery-cause';
import type { GraphQLContext } from './graphql/context';
import { formatError } from './graphql/format-error';
import { HTTP_BODY_LIMIT_BYTES, httpErrorHandler, requireJsonBody } from './graphql/http-errors';
import { createLoaders } from './graphql/loaders';
import { checkSubscribe, costLimitPlugin, limitRules, serializeRootFields } from './graphql/query-limits';
import { orUnavailable, unavailableStatusPlugin } from './graphql/unavailable';
import { gateUpgrades } from './graphql/ws-gate';
import { readyzResponse } from './observability/health';
import { graphqlMetricsPlugin } from './observability/graphql-metrics';
import { watchSubscriptions } from './observability/metrics';
import type { Services } from './services';
import { currentLogger, type Logger, saneRequestId, withRequestLogger } from './observability/logger';
import { operationLogPlugin } from './observability/operation-log';
import { activeTraceId, startOperationSpan } from './observability/tracing';

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
  log: Logger;
  limits: { graphql: QueryLimits; websocket: WebSocketLimits };
}): Promise<HttpServer> {
  const { schema, services, log, limits } = options;
  const rules = limitRules(limits.graphql);
  serializeRootFields(schema);
  const app = express();
  const server = http.createServer(app);
  let draining = false;

  // A message over maxPayload closes the socket with 1009 before it is buffered (ws's default is 100 MiB).
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: limits.websocket.maxPayloadBytes });
  // Read when metrics are scraped, not counted per message.
  const sockets = new Set<{ subscriptions: Record<string, unknown> }>();
  watchSubscriptions(() => {
    let subscriptions = 0;
    for (const ctx of sockets) subscriptions += Object.keys(ctx.subscriptions).length;
    return { subscriptions, connections: wsServer.clients.size };
  });
  gateUpgrades(server, wsServer, { path: '/graphql', ...limits.websocket, isDraining: () => draining });
  const wsCleanup = useServer<{ authorization?: string }, { actor?: GraphQLContext['actor']; session?: Session }>(
    {
      schema,
      connectionInitWaitTimeout: limits.websocket.initTimeoutMs,
      onSubscribe: (_ctx, _id, payload) => checkSubscribe(schema, limits.graphql, rules, payload),
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
        sockets.add(ctx);
        return true;
      },
      onClose: (ctx) => {
        sockets.delete(ctx);
        ctx.extra.session?.end();
      },
      // Loaders batch but do not cache here: a subscription's context outlives any one result.
      context: (ctx): GraphQLContext => ({ actor: ctx.extra.actor ?? null, services, loaders: createLoaders(services.dataSource, { cache: false }) }),
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
    parseOptions: { maxTokens: limits.graphql.maxTokens },
    validationRules: rules,
    plugins: [
      graphqlMetricsPlugin(),
      costLimitPlugin(limits.graphql.maxCost),
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
      unavailableStatusPlugin,
      operationLogPlugin(log),
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
  // Probes (src/observability/health.ts); /healthz above stays as load balancers know it.
  app.get('/livez', (_req, res) => void res.status(200).json({ status: 'alive' }));
  app.get('/readyz', async (_req, res) => {
    const { status, body } = await readyzResponse({ dataSource: services.dataSource, isDraining: () => draining });
    res.status(status).set('cache-control', 'no-store').json(body);
  });
  app.use(
    '/graphql',
    // A request id on every answer, refusals of the body included; a caller's own is kept if sane.
    (req, res, next) => {
      res.locals.requestId = saneRequestId(req.headers['x-request-id']) ?? randomUUID();
      res.setHeader('x-request-id', res.locals.requestId);
      next();
    },
    requireJsonBody(),
    express.json({ limit: HTTP_BODY_LIMIT_BYTES }),
    // After the body is read: a context set here lasts through the whole operation (body-parser's
    // stream callbacks would lose it), so every line of the request carries its id.
    // The operation's span is opened here too, so its database statements are its children.
    (req, res, next) => {
      const requestId = res.locals.requestId as string;
      const operation = startOperationSpan(typeof req.body?.operationName === 'string' ? req.body.operationName : 'graphql');
      operation.span.setAttribute('http.request.header.x-request-id', requestId);
      res.on('close', () => operation.span.end());
      operation.run(() => withRequestLogger(log.child({ requestId, traceId: activeTraceId() }), next));
    },
    expressMiddleware(apollo, {
      context: async ({ req }) => ({
        actor: withCause(await orUnavailable(() => services.identity.authenticate(bearerToken(req.headers.authorization))), req.headers, log),
        services,
        loaders: createLoaders(services.dataSource),
      }),
    }),
  );
  mountConsole(app);
  app.use(httpErrorHandler(log));

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

/** The delivery a request was made in the handling of (loop protection); a bad header is logged and ignored. */
function withCause(actor: Actor | null, headers: IncomingHttpHeaders, log: Logger): Actor | null {
  if (!actor) return actor;
  const { cause, ignored } = parseDeliveryCause(headers);
  if (ignored) currentLogger(log).warn({ userId: actor.user.id }, `graphql: ignored a loop-protection header: ${ignored}`);
  return cause ? { ...actor, cause } : actor;
}
