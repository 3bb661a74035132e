/**
 * A ready-to-paste command that re-sends a logged request. Every value comes from the log
 * row, which is attacker-influenced (document titles end up in bodies, receivers choose
 * response headers, anyone with ADMIN chooses header values and URLs), so each argument is
 * quoted for a POSIX shell and nothing in it is ever interpreted: no `$(...)`, backticks,
 * variables or globbing. Secret header values are already masked in the row, so the command
 * leaks nothing that the log row does not.
 */
export interface CurlRequest {
  method: string;
  url: string;
  headers: ReadonlyArray<{ name: string; value: string }>;
  body: string;
}

/**
 * One shell word holding exactly `value`: single quotes keep every byte literal (newlines and
 * non-ASCII included); a single quote itself cannot appear inside them, so it is written as
 * `'\''` (close, escaped quote, reopen). A NUL byte cannot be passed in an argument at all;
 * JSON bodies never contain one raw.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * curl reads `-H 'Name:'` as "remove this header"; `Name;` is its spelling for a header sent
 * with an empty value.
 */
function headerArgument(name: string, value: string): string {
  return value === '' ? `${name};` : `${name}: ${value}`;
}

/** The argument vector after `curl`, unquoted: what the shell hands curl. */
export function curlArguments(request: CurlRequest): string[] {
  const args = ['--request', request.method, request.url];
  for (const header of request.headers) args.push('--header', headerArgument(header.name, header.value));
  // --data-raw: a body starting with `@` is sent as is, not read from a file.
  args.push('--data-raw', request.body);
  return args;
}

/** `curl --request POST 'https://…' \` with one option per line, ready to paste. */
export function toCurl(request: CurlRequest): string {
  const args = curlArguments(request);
  const lines = [`curl --request ${shellQuote(args[1])} ${shellQuote(args[2])}`];
  for (let i = 3; i < args.length; i += 2) lines.push(`${args[i]} ${shellQuote(args[i + 1])}`);
  return lines.join(' \\\n  ');
}
