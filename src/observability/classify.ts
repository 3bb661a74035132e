/**
 * The bounded label values metrics use. Pure, so they are unit-tested; nothing here may ever
 * return an id, a URL, a host or a message: every value comes from a fixed set.
 */

/** What the attempt counter is labelled with; `none` for a success. */
export type ErrorClass =
  | 'none'
  | 'timeout'
  | 'refused'
  | 'reset'
  | 'dns'
  | 'blocked'
  | 'redirect'
  | 'http_1xx'
  | 'http_2xx'
  | 'http_3xx'
  | 'http_4xx'
  | 'http_5xx'
  | 'http_other'
  | 'other';

export const ERROR_CLASSES: readonly ErrorClass[] = [
  'none', 'timeout', 'refused', 'reset', 'dns', 'blocked', 'redirect',
  'http_1xx', 'http_2xx', 'http_3xx', 'http_4xx', 'http_5xx', 'http_other', 'other',
];

export interface ClassifiableResult {
  success: boolean;
  statusCode: number | null;
  /** http-sender's AttemptErrorCode. */
  errorCode: string | null;
}

const SENDER_CLASSES = new Set<string>(['timeout', 'refused', 'reset', 'dns', 'blocked', 'redirect']);

/**
 * A receiver's answer is classed by its status family (a 500 and a 503 call for the same
 * reaction: look at the receiver); a failure before any answer by what went wrong on the way.
 * A 2xx that still failed (none today) would read `http_2xx` rather than vanish.
 */
export function errorClass(result: ClassifiableResult): ErrorClass {
  if (result.success) return 'none';
  if (result.errorCode !== null && SENDER_CLASSES.has(result.errorCode)) return result.errorCode as ErrorClass;
  if (result.errorCode === 'status' || (result.errorCode === null && result.statusCode !== null)) {
    const family = result.statusCode === null ? 0 : Math.floor(result.statusCode / 100);
    return family >= 1 && family <= 5 ? (`http_${family}xx` as ErrorClass) : 'http_other';
  }
  return 'other';
}

/** Operation names not counted by name: no name, or the request never got as far as one. */
export const ANONYMOUS_OPERATION = 'anonymous';
export const UNKNOWN_OPERATION = 'unknown';
export const OTHER_OPERATION = 'other';

/**
 * Clients choose operation names, so a label per name would let any client grow the metrics
 * without bound. Names the product's own clients send (the contract's and the SDK's) are
 * always counted by name; any other name is counted by name only while fewer than `cap` such
 * names have been seen since start, and as `other` after that. A flood of invented names
 * therefore costs at most `cap` series, and cannot push a known name into `other`.
 */
export class OperationNames {
  private readonly extra = new Set<string>();

  constructor(
    private readonly known: ReadonlySet<string>,
    private readonly cap = 50,
  ) {}

  label(name: string | null | undefined): string {
    if (name === undefined) return UNKNOWN_OPERATION;
    if (name === null || name === '') return ANONYMOUS_OPERATION;
    if (this.known.has(name) || this.extra.has(name)) return name;
    // GraphQL names are [_A-Za-z][_0-9A-Za-z]*; anything else never came from a parsed document.
    if (!/^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(name)) return OTHER_OPERATION;
    if (this.extra.size >= this.cap) return OTHER_OPERATION;
    this.extra.add(name);
    return name;
  }
}
