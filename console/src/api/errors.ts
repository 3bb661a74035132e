import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';

/** One error the server (or the network) reported, in the API's vocabulary. */
export interface Problem {
  code: string;
  message: string;
  /** For BAD_USER_INPUT: the input path, e.g. `input.url` or `input.headers[2].name`. */
  field?: string;
}

export function problemsOf(error: unknown): Problem[] {
  if (!error) return [];
  if (CombinedGraphQLErrors.is(error)) {
    return error.errors.map((e) => ({
      code: typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR',
      message: e.message,
      field: typeof e.extensions?.field === 'string' ? e.extensions.field : undefined,
    }));
  }
  if (ServerError.is(error)) {
    // A GraphQL-shaped body with a non-200 status (503 while the database is away, 400 for a query over a limit).
    try {
      const body = JSON.parse(error.bodyText) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
      if (body.errors?.length) return body.errors.map((e) => ({ code: e.extensions?.code ?? `HTTP_${error.statusCode}`, message: e.message }));
    } catch {
      // not JSON: fall through
    }
    return [{ code: `HTTP_${error.statusCode}`, message: `The server answered HTTP ${error.statusCode}` }];
  }
  const message = error instanceof Error ? error.message : String(error);
  return [{ code: 'NETWORK', message: `Cannot reach the server (${message}). Is it running?` }];
}

/** What a code means for the person reading it, beyond the server's message. */
export function explain(code: string): string | null {
  switch (code) {
    case 'NOT_FOUND':
      return 'It does not exist, or it belongs to a project you are not a member of.';
    case 'FORBIDDEN':
      return 'Ask an OWNER or ADMIN of this project for a role that allows it.';
    case 'UNAUTHENTICATED':
      return 'Sign in again with a valid API token.';
    case 'SERVICE_UNAVAILABLE':
      return 'The server cannot reach its database right now; try again in a few seconds.';
    case 'QUERY_TOO_COMPLEX':
      return 'The request was over one of the server\u2019s limits.';
    default:
      return null;
  }
}

/** The rule part of a BAD_USER_INPUT message (`input.url: must be …` → `must be …`). */
export function ruleOf(problem: Problem): string {
  return problem.field && problem.message.startsWith(`${problem.field}: `) ? problem.message.slice(problem.field.length + 2) : problem.message;
}
