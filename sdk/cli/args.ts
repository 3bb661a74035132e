import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Flags shared by the commands, parsed with node:util's parseArgs. Anything wrong with the way
 * the command was called is a UsageError: one line on stderr and exit code 2, as for a missing
 * token or a server that cannot be reached, so scripts can tell "fix the call" from "it ran
 * and failed" (1).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_API_URL = 'http://localhost:4000/graphql';

export const CONNECTION_OPTIONS = {
  'api-url': { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const CONNECTION_HELP = `  --api-url URL        the CMS's GraphQL endpoint (env CMS_API_URL; default ${DEFAULT_API_URL})
  --token TOKEN        an API token of an ADMIN of the project (env CMS_TOKEN)
  -h, --help           this help`;

export function parse<O extends Options>(command: string, args: string[], options: O, positionals = 0): ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>> {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs' first sentence names the flag; the rest is advice about '--' that rarely applies.
    const [first] = (error as Error).message.split(/(?<=\.) /);
    throw new UsageError(`${first.replace(/\.$/, '')} (see cms-webhooks ${command} --help)`);
  }
  // Positionals are allowed through parseArgs, then counted here, for a message that says which.
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument '${parsed.positionals[positionals]}' (see cms-webhooks ${command} --help)`);
  return parsed;
}

export interface Connection {
  apiUrl: string;
  token: string;
}

export function connectionOf(values: { 'api-url'?: string; token?: string }, env: NodeJS.ProcessEnv): Connection {
  const apiUrl = values['api-url'] ?? env.CMS_API_URL ?? DEFAULT_API_URL;
  if (!/^https?:$/.test(safeUrl(apiUrl)?.protocol ?? '')) throw new UsageError(`--api-url must be an http:// or https:// URL, got '${apiUrl}'`);
  const token = values.token ?? env.CMS_TOKEN;
  if (!token) throw new UsageError('no API token: pass --token or set CMS_TOKEN');
  return { apiUrl, token };
}

export function forwardUrlOf(value: string | undefined): URL {
  if (!value) throw new UsageError('--forward-to URL is required, e.g. --forward-to http://localhost:3000/api/webhook');
  const url = safeUrl(value);
  if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(`--forward-to must be an http:// or https:// URL, got '${value}'`);
  return url;
}

/** `Name: value` pairs given with --header, as the webhook's own headers would be sent. */
export function headersOf(values: string[] | undefined): Array<{ name: string; value: string }> {
  return (values ?? []).map((raw) => {
    const colon = raw.indexOf(':');
    const name = colon > 0 ? raw.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`--header must be 'Name: value', got '${raw}'`);
    return { name, value: raw.slice(colon + 1).trim() };
  });
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
