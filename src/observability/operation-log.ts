import type { ApolloServerPlugin } from '@apollo/server';
import { currentLogger, type Logger } from './logger';
import { markSpanFailed, nameOperationSpan } from './tracing';
import { trace } from '@opentelemetry/api';

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
        async didResolveOperation({ operationName, operation }) {
          nameOperationSpan(operationName ?? undefined, operation?.operation);
        },
        async willSendResponse({ operationName, operation, errors, response }) {
          const log = currentLogger(fallback);
          // The errors as the client gets them (formatted, with their codes), whatever stage raised them.
          const sent = response.body.kind === 'single' ? response.body.singleResult.errors : errors;
          const codes = [...new Set((sent ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          const fields = {
            operation: operationName ?? undefined,
            operationType: operation?.operation,
            durationMs: Math.round(performance.now() - started),
            status: response.http.status ?? 200,
            errorCodes: codes.length > 0 ? codes : undefined,
          };
          if (codes.includes('INTERNAL_SERVER_ERROR')) {
            markSpanFailed(trace.getActiveSpan(), 'INTERNAL_SERVER_ERROR');
            log.error(fields, 'graphql operation failed');
          }
          else log.info(fields, codes.length > 0 ? 'graphql operation refused' : 'graphql operation');
        },
      };
    },
  };
}
