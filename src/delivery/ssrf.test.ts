import dns from 'node:dns';
import {
  BlockedAddressError,
  checkAddress,
  checkUrlHost,
  guardedLookup,
  isValidCidr,
  parseAllowedCidrs,
} from './ssrf';

// Addresses appear here as strings only: nothing in this file opens a connection.
const none = parseAllowedCidrs([]);

describe('isValidCidr', () => {
  it.each([
    '10.0.0.0/8',
    '127.0.0.0/8',
    '0.0.0.0/0',
    '192.168.1.7',
    '::1/128',
    '::1',
    'fc00::/7',
    '::ffff:127.0.0.1/128',
    ' 127.0.0.0/8 ',
  ])('accepts %p', (text) => expect(isValidCidr(text)).toBe(true));

  it.each(['', 'localhost', '10/8', '10.0.0.0/33', '::1/129', '10.0.0.0/', '300.1.1.1', '1.2.3.4/8/8', '0x7f.0.0.1'])(
    'refuses %p',
    (text) => expect(isValidCidr(text)).toBe(false),
  );
});

describe('parseAllowedCidrs', () => {
  it('skips empty entries and names the bad one', () => {
    expect(parseAllowedCidrs(['', ' ']).v4).toHaveLength(0);
    expect(() => parseAllowedCidrs(['127.0.0.0/8', '10/8'])).toThrow(/"10\/8"/);
  });

  it('reads a bare address as a single host', () => {
    const allow = parseAllowedCidrs(['10.0.0.5', '::1']);
    expect(checkAddress('10.0.0.5', allow).allowed).toBe(true);
    expect(checkAddress('10.0.0.6', allow).allowed).toBe(false);
    expect(checkAddress('::1', allow).allowed).toBe(true);
  });
});

describe('checkAddress without an allow-list', () => {
  it.each([
    ['127.0.0.1', /loopback.*127\.0\.0\.0\/8/],
    ['127.255.255.254', /loopback/],
    ['10.1.2.3', /private.*10\.0\.0\.0\/8/],
    ['172.16.0.1', /private.*172\.16\.0\.0\/12/],
    ['172.31.255.255', /private/],
    ['192.168.0.1', /private.*192\.168\.0\.0\/16/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    ['169.254.169.254', /link-local.*169\.254\.0\.0\/16/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    ['192.0.0.8', /reserved/],
    ['192.0.2.1', /reserved.*192\.0\.2\.0\/24/],
    ['198.51.100.7', /reserved.*198\.51\.100\.0\/24/],
    ['203.0.113.9', /reserved.*203\.0\.113\.0\/24/],
    ['198.18.0.1', /reserved.*198\.18\.0\.0\/15/],
    ['198.19.255.255', /reserved/],
    ['::1', /loopback.*::1\/128/],
    ['::', /unspecified/],
    ['fc00::1', /unique-local/],
    ['fd12:3456::1', /unique-local.*fc00::\/7/],
    ['fe80::1', /link-local.*fe80::\/10/],
    ['fe80::1%eth0', /link-local/],
    ['ff02::1', /multicast/],
    ['2001:db8::1', /reserved.*2001:db8::\/32/],
    ['fec0::1', /site-local/],
    ['2001::1', /Teredo/],
    ['::ffff:0:7f00:1', /IPv4-translated/],
    ['64:ff9b:1::1', /NAT64/],
    ['::ffff:127.0.0.1', /embeds 127\.0\.0\.1 \(IPv4-mapped\), a loopback/],
    ['::ffff:7f00:1', /embeds 127\.0\.0\.1 \(IPv4-mapped\)/],
    ['::ffff:169.254.169.254', /embeds 169\.254\.169\.254 .*link-local/],
    ['::ffff:10.0.0.1', /embeds 10\.0\.0\.1 .*private/],
    ['::7f00:1', /embeds 127\.0\.0\.1 \(IPv4-compatible\)/],
    ['::a00:1', /embeds 10\.0\.0\.1 \(IPv4-compatible\)/],
    ['64:ff9b::7f00:1', /embeds 127\.0\.0\.1 \(NAT64\)/],
    ['64:ff9b::169.254.169.254', /embeds 169\.254\.169\.254 \(NAT64\)/],
    ['2002:7f00:1::1', /embeds 127\.0\.0\.1 \(6to4\)/],
    ['2002:c0a8:101::1', /embeds 192\.168\.1\.1 \(6to4\)/],
  ])('refuses %s', (address, reason) => {
    const verdict = checkAddress(address, none);
    expect(verdict.allowed).toBe(false);
    if (verdict.allowed) return;
    expect(verdict.reason).toMatch(reason);
    expect(verdict.reason).toContain(`destination ${address} `);
    expect(verdict.reason).toContain('unless WEBHOOK_ALLOWED_CIDRS includes it');
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '198.20.0.1',
    '2001:4860:4860::8888',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '::808:808',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows public %s', (address) => {
    expect(checkAddress(address, none)).toEqual({ allowed: true });
  });

  it('gives the full explanation, with the setting that allows it', () => {
    expect(checkAddress('127.0.0.1', none)).toEqual({
      allowed: false,
      reason:
        'destination 127.0.0.1 is a loopback address in 127.0.0.0/8; deliveries to loopback, private, ' +
        'link-local and other special-purpose addresses are refused unless WEBHOOK_ALLOWED_CIDRS ' +
        'includes it (e.g. 127.0.0.1/32)',
    });
  });

  it.each(['localhost', '', 'not an ip', '1.2.3.4.5'])('refuses a non-address %p', (text) => {
    expect(checkAddress(text, none)).toEqual({ allowed: false, reason: `destination ${text} is not an IP address` });
  });
});

describe('checkAddress with an allow-list', () => {
  const allow = parseAllowedCidrs(['127.0.0.0/8', '10.20.0.0/16', 'fd00::/8']);

  it.each(['127.0.0.1', '127.3.4.5', '10.20.1.1', 'fd00::5', '::ffff:127.0.0.1', '::7f00:1', '64:ff9b::a14:101'])(
    'allows %s, directly or through its embedded IPv4',
    (address) => expect(checkAddress(address, allow)).toEqual({ allowed: true }),
  );

  it.each(['10.21.0.1', '192.168.1.1', '::1', 'fc00::1', '169.254.169.254', '::ffff:10.21.0.1'])(
    'still refuses %s',
    (address) => expect(checkAddress(address, allow).allowed).toBe(false),
  );

  it('matches the raw IPv6 form too', () => {
    const mapped = parseAllowedCidrs(['::ffff:127.0.0.0/104']);
    expect(checkAddress('::ffff:127.0.0.1', mapped).allowed).toBe(true);
    expect(checkAddress('127.0.0.1', mapped).allowed).toBe(false);
  });
});

describe('checkUrlHost', () => {
  it.each([
    'http://127.0.0.1:8080/x',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::127.0.0.1]/',
    'http://2130706433/',
    'http://0x7f.1/',
    'https://169.254.169.254/latest/meta-data',
    'http://[fe80::1]/',
  ])('refuses the literal host of %s', (url) => {
    const verdict = checkUrlHost(new URL(url), none);
    expect(verdict.allowed).toBe(false);
  });

  it('names the address in brackets-free form', () => {
    const verdict = checkUrlHost(new URL('http://[::1]:9/'), none);
    expect(verdict.allowed === false && verdict.reason).toMatch(/^destination ::1 is a loopback address/);
  });

  it('leaves host names to the guarded lookup, and passes public literals', () => {
    expect(checkUrlHost(new URL('http://localhost/'), none)).toEqual({ allowed: true });
    expect(checkUrlHost(new URL('https://example.com/'), none)).toEqual({ allowed: true });
    expect(checkUrlHost(new URL('http://8.8.8.8/'), none)).toEqual({ allowed: true });
  });

  it('honours the allow-list', () => {
    expect(checkUrlHost(new URL('http://[::1]/'), parseAllowedCidrs(['::1/128']))).toEqual({ allowed: true });
  });
});

type Answer = { err: NodeJS.ErrnoException | null; address?: unknown; family?: unknown };

function lookupOnce(fn: ReturnType<typeof guardedLookup>, host: string, options?: dns.LookupOptions | number) {
  return new Promise<Answer>((resolve) => {
    const cb = (err: NodeJS.ErrnoException | null, address?: unknown, family?: unknown) =>
      resolve({ err, address, family });
    if (options === undefined) fn(host, cb);
    else if (typeof options === 'number') fn(host, options, cb);
    else fn(host, options, cb);
  });
}

describe('guardedLookup with the real resolver', () => {
  it('refuses localhost without an allow-list', async () => {
    const { err } = await lookupOnce(guardedLookup(none), 'localhost');
    expect(err).toBeInstanceOf(BlockedAddressError);
    const blocked = err as BlockedAddressError;
    expect(blocked.code).toBe('EBLOCKED');
    expect(['127.0.0.1', '::1']).toContain(blocked.address);
    expect(blocked.reason).toMatch(/loopback/);
    expect(blocked.message).toContain('localhost resolved to');
  });

  it('refuses with all: true too', async () => {
    const { err } = await lookupOnce(guardedLookup(none), 'localhost', { all: true });
    expect(err).toBeInstanceOf(BlockedAddressError);
  });

  it('allows localhost when loopback is allowed', async () => {
    const lookup = guardedLookup(parseAllowedCidrs(['127.0.0.0/8', '::1/128']));
    const one = await lookupOnce(lookup, 'localhost');
    expect(one.err).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(one.address);
    expect([4, 6]).toContain(one.family);

    const all = await lookupOnce(lookup, 'localhost', { all: true });
    expect(all.err).toBeNull();
    expect(Array.isArray(all.address)).toBe(true);

    const v4 = await lookupOnce(lookup, 'localhost', 4);
    expect(v4).toEqual({ err: null, address: '127.0.0.1', family: 4 });
  });

});

describe('guardedLookup with a scripted resolver', () => {
  const answers = (addresses: dns.LookupAddress[]) =>
    jest.fn((_host: string, _options: dns.LookupAllOptions, cb: (e: null, a: dns.LookupAddress[]) => void) =>
      setImmediate(() => cb(null, addresses)),
    );

  it('refuses a name whose answers mix public and private addresses, whichever comes first', async () => {
    const resolve = answers([
      { address: '93.184.216.34', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ]);
    const { err } = await lookupOnce(guardedLookup(none, resolve), 'rebind.example', { family: 0 });
    expect((err as BlockedAddressError).address).toBe('169.254.169.254');
    expect(resolve).toHaveBeenCalledWith('rebind.example', { family: 0, all: true }, expect.any(Function));
  });

  it('returns the first address, or all of them, when every one is public', async () => {
    const list = [
      { address: '2606:4700:4700::1111', family: 6 },
      { address: '1.1.1.1', family: 4 },
    ];
    const lookup = guardedLookup(none, answers(list));
    expect(await lookupOnce(lookup, 'public.example', {})).toEqual({
      err: null,
      address: '2606:4700:4700::1111',
      family: 6,
    });
    expect(await lookupOnce(lookup, 'public.example', { all: true })).toEqual({ err: null, address: list, family: undefined });
  });

  it('passes resolver failures through untouched', async () => {
    const failure: NodeJS.ErrnoException = Object.assign(new Error('getaddrinfo ENOTFOUND nx.example'), { code: 'ENOTFOUND' });
    const resolve = (_h: string, _o: dns.LookupAllOptions, cb: (e: NodeJS.ErrnoException, a: dns.LookupAddress[]) => void) =>
      setImmediate(() => cb(failure, []));
    expect((await lookupOnce(guardedLookup(none, resolve), 'nx.example')).err).toBe(failure);
  });

  it('treats an empty answer as not found', async () => {
    const { err } = await lookupOnce(guardedLookup(none, answers([])), 'empty.example');
    expect(err?.code).toBe('ENOTFOUND');
  });
});
