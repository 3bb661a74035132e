import type { ApolloServerPlugin } from '@apollo/server';
import { currentLogger, type Logger } from './logger';

/**
 * One line per GraphQL operation over HTTP, with the request id the middleware bound: what an
 * operator greps for when a client quotes its x-request-id. Names and codes only: variables
 * and the query text may hold anything a client sent, secrets included.
 */
export function operationLogPlugin(fallback: Logger): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, operation, errors, response }) {
          const log = currentLogger(fallback);
          const codes = [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          const fields = {
            operation: operationName ?? undefined,
            operationType: operation?.operation,
            durationMs: Math.round(performance.now() - started),
            status: response.http.status ?? 200,
            errorCodes: codes.length > 0 ? codes : undefined,
          };
          if (codes.includes('INTERNAL_SERVER_ERROR')) log.error(fields, 'graphql operation failed');
          else log.info(fields, codes.length > 0 ? 'graphql operation refused' : 'graphql operation');
        },
      };
    },
  };
}
