import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST } from 'graphql';
import { CONTRACT_DOCUMENTS, SDK_DOCUMENTS } from '../../sdk/generated/documents';
import { OperationNames, UNKNOWN_OPERATION } from './classify';
import { graphqlOperationDone, metricsEnabled } from './metrics';

/** The names the product's own clients use (the contract's and the SDK's): always counted by name. */
export const KNOWN_OPERATION_NAMES: ReadonlySet<string> = new Set([...Object.keys(CONTRACT_DOCUMENTS), ...Object.keys(SDK_DOCUMENTS)]);

/**
 * Counts and times every GraphQL operation over HTTP. Outcomes: `success` (no error), `error`
 * (it ran and at least one error came back: a resolver's, NOT_FOUND, UNAUTHENTICATED...),
 * `rejected` (it never ran: unparsable, invalid, over a limit). The name is bounded by
 * OperationNames.
 */
export function graphqlMetricsPlugin(names = new OperationNames(KNOWN_OPERATION_NAMES)): ApolloServerPlugin {
  return {
    async requestDidStart() {
      if (!metricsEnabled()) return;
      const started = performance.now();
      let executed = false;
      return {
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse(ctx) {
          const body = ctx.response.body;
          const errors = ctx.errors ?? (body.kind === 'single' ? body.singleResult.errors : undefined);
          // Named from the document only: before it parses there is no operation to name, and a
          // name the request merely claims is not trusted. An invalid document still has its name.
          const operation = ctx.operation ?? (ctx.document ? getOperationAST(ctx.document, ctx.request.operationName) : null);
          const name = ctx.document ? (operation?.name?.value ?? null) : undefined;
          const outcome = !executed ? 'rejected' : errors && errors.length > 0 ? 'error' : 'success';
          const label = name === undefined ? UNKNOWN_OPERATION : names.label(name);
          graphqlOperationDone(label, operation?.operation ?? 'unknown', outcome, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
