import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF decision for webhook deliveries. A webhook URL is chosen by a project admin, so
 * without this check a delivery could reach the cloud metadata endpoint, the database or
 * anything else on the server's own network and log the answer back to the admin.
 */

type IP = ipaddr.IPv4 | ipaddr.IPv6;

export type AllowList = {
  readonly v4: ReadonlyArray<[ipaddr.IPv4, number]>;
  readonly v6: ReadonlyArray<[ipaddr.IPv6, number]>;
};

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

const SETTING = 'WEBHOOK_ALLOWED_CIDRS';

/**
 * IPv4 must be written as four decimal parts: ipaddr would read `10/8` as 0.0.0.10/8, which
 * is never what an operator meant. A bare address means that single host.
 */
export function isValidCidr(text: string): boolean {
  const value = text.trim();
  if (value.includes('/')) {
    return ipaddr.IPv4.isValidCIDRFourPartDecimal(value) || ipaddr.IPv6.isValidCIDR(value);
  }
  return ipaddr.IPv4.isValidFourPartDecimal(value) || ipaddr.IPv6.isValid(value);
}

/** Throws on an invalid entry so that a typo in the configuration stops the start, not a delivery. */
export function parseAllowedCidrs(list: readonly string[]): AllowList {
  const v4: Array<[ipaddr.IPv4, number]> = [];
  const v6: Array<[ipaddr.IPv6, number]> = [];
  for (const raw of list) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (!isValidCidr(entry)) {
      throw new Error(`${SETTING}: "${entry}" is not an IPv4 or IPv6 CIDR (e.g. 127.0.0.0/8, ::1/128)`);
    }
    const [address, bits] = entry.includes('/')
      ? ipaddr.parseCIDR(entry)
      : ([ipaddr.parse(entry), entry.includes(':') ? 128 : 32] as [IP, number]);
    if (address.kind() === 'ipv4') v4.push([address as ipaddr.IPv4, bits]);
    else v6.push([address as ipaddr.IPv6, bits]);
  }
  return { v4, v6 };
}

const NAT64 = ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number];

/**
 * IPv6 forms that carry an IPv4 address the packet ends up at. ipaddr classifies them by
 * their IPv6 prefix only (and calls IPv4-compatible `::7f00:1` plain 'unicast', which is how
 * a WHATWG URL writes `[::127.0.0.1]`), so the decision is made on the IPv4 inside.
 */
function embeddedIPv4(address: ipaddr.IPv6): { ipv4: ipaddr.IPv4; form: string } | null {
  const p = address.parts;
  const fromParts = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const range = address.range();
  if (range === 'ipv4Mapped') return { ipv4: address.toIPv4Address(), form: 'IPv4-mapped' };
  if (range === '6to4') return { ipv4: fromParts(p[1], p[2]), form: '6to4' };
  if (address.match(NAT64)) return { ipv4: fromParts(p[6], p[7]), form: 'NAT64' };
  // ::/96 minus :: and ::1, which are IPv6's own unspecified and loopback addresses.
  const compatible = p.slice(0, 6).every((part) => part === 0) && (p[6] !== 0 || p[7] > 1);
  if (compatible) return { ipv4: fromParts(p[6], p[7]), form: 'IPv4-compatible' };
  return null;
}

function inAllowList(address: IP, allow: AllowList): boolean {
  if (address.kind() === 'ipv4') return allow.v4.some((cidr) => address.match(cidr));
  return allow.v6.some((cidr) => address.match(cidr));
}

const LABELS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address (where cloud metadata endpoints live)',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address',
  private: 'a private (RFC 1918) address',
  reserved: 'a reserved address (documentation, benchmarking, IETF or future use)',
  benchmarking: 'a benchmarking address',
  uniqueLocal: 'a unique-local address',
  deprecatedSiteLocal: 'a site-local address',
  rfc6145: 'an IPv4-translated address',
  rfc6052: 'a local-use NAT64 address',
  teredo: 'a Teredo tunnel address',
};

/** The CIDR of the matched range, read from ipaddr's own table (not part of its typings). */
function rangeCidr(address: IP, range: string): string | null {
  const table = (address as unknown as { SpecialRanges?: Record<string, unknown> }).SpecialRanges;
  const entry = table?.[range];
  if (!Array.isArray(entry)) return null;
  const cidrs = (Array.isArray(entry[0]) ? entry : [entry]) as Array<[IP, number]>;
  const hit = cidrs.find((cidr) => address.match(cidr));
  return hit ? `${hit[0].toString()}/${hit[1]}` : null;
}

function describe(address: IP, range: string): string {
  const label = LABELS[range] ?? `a special-purpose address ('${range}')`;
  const cidr = rangeCidr(address, range);
  return cidr ? `${label} in ${cidr}` : label;
}

function refusal(shown: string, what: string, suggestion: string): AddressVerdict {
  return {
    allowed: false,
    reason:
      `destination ${shown} ${what}; deliveries to loopback, private, link-local and other ` +
      `special-purpose addresses are refused unless ${SETTING} includes it (e.g. ${suggestion})`,
  };
}

/** Only public unicast passes, unless the operator allowed the address (or the IPv4 inside it). */
export function checkAddress(address: string, allow: AllowList): AddressVerdict {
  const shown = address.trim();
  if (!ipaddr.isValid(shown)) {
    return { allowed: false, reason: `destination ${shown} is not an IP address` };
  }
  const parsed = ipaddr.parse(shown);
  const embedded = parsed.kind() === 'ipv6' ? embeddedIPv4(parsed as ipaddr.IPv6) : null;
  if (inAllowList(parsed, allow) || (embedded && inAllowList(embedded.ipv4, allow))) {
    return { allowed: true };
  }
  if (embedded) {
    const range = embedded.ipv4.range();
    if (range === 'unicast') return { allowed: true };
    const v4 = embedded.ipv4.toString();
    return refusal(shown, `embeds ${v4} (${embedded.form}), ${describe(embedded.ipv4, range)}`, `${v4}/32`);
  }
  const range = parsed.range();
  if (range === 'unicast') return { allowed: true };
  const single = parsed.kind() === 'ipv4' ? `${parsed.toString()}/32` : `${parsed.toString()}/128`;
  return refusal(shown, `is ${describe(parsed, range)}`, single);
}

/**
 * Node's http skips `lookup` for a literal IP host, so those are checked before sending.
 * `net.isIP` is the same test Node uses to decide whether to call lookup, so every host is
 * covered by exactly one of the two checks.
 */
export function checkUrlHost(url: URL, allow: AllowList): AddressVerdict {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (net.isIP(host) === 0) return { allowed: true };
  return checkAddress(host, allow);
}

export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKED';

  constructor(
    readonly address: string,
    readonly reason: string,
    readonly hostname?: string,
  ) {
    super(hostname && hostname !== address ? `${reason} (${hostname} resolved to ${address})` : reason);
    this.name = 'BlockedAddressError';
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address?: string | dns.LookupAddress[],
  family?: number,
) => void;

type Resolver = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

/** dns.lookup's call shapes, so the result fits an http.Agent's `lookup` and direct callers alike. */
export interface GuardedLookup {
  (hostname: string, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void;
  (
    hostname: string,
    family: number,
    callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
  ): void;
  (
    hostname: string,
    options: dns.LookupOneOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
  ): void;
  (
    hostname: string,
    options: dns.LookupAllOptions,
    callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
  ): void;
  (
    hostname: string,
    options: dns.LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family: number) => void,
  ): void;
}

/**
 * A dns.lookup that refuses blocked addresses. Installed as the agent's `lookup`, the socket
 * connects to exactly the address checked here, so a DNS answer that changes between a
 * check and the connect (DNS rebinding) has no window. Every resolved address is checked,
 * not only the one used: Node's happy-eyeballs connect (`all: true`) may try any of them,
 * and a name that mixes public and private answers is suspect anyway.
 */
export function guardedLookup(allow: AllowList, resolve: Resolver = dns.lookup): GuardedLookup {
  function lookup(hostname: string, optionsOrCallback: unknown, maybeCallback?: unknown): void {
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as LookupCallback;
    const options: dns.LookupOptions =
      typeof optionsOrCallback === 'number'
        ? { family: optionsOrCallback }
        : typeof optionsOrCallback === 'object' && optionsOrCallback !== null
          ? (optionsOrCallback as dns.LookupOptions)
          : {};
    // One getaddrinfo answer either way; `all: false` takes its first entry, as dns.lookup does.
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        notFound.code = 'ENOTFOUND';
        return callback(notFound);
      }
      for (const entry of addresses) {
        const verdict = checkAddress(entry.address, allow);
        if (!verdict.allowed) return callback(new BlockedAddressError(entry.address, verdict.reason, hostname));
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  }
  return lookup as GuardedLookup;
}
