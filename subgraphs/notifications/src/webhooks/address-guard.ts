import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Address ranges a webhook may never reach: this network and the machines around it (SSRF). A
 * public URL whose host resolves into any of them is refused, unless the allow-list names it.
 */
const REFUSED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network", incl. the unspecified address
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // network benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast
];
const REFUSED_V6: Array<[string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed by some networks)
  ['fc00::', 7], // unique-local
  ['ff00::', 8], // multicast
];

const refused = new BlockList();
for (const [network, prefix] of REFUSED_V4) refused.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of REFUSED_V6) refused.addSubnet(network, prefix, 'ipv6');

/** The 16 bytes of an IPv6 address (any textual form). */
function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

/**
 * The IPv4 address an IPv6 address carries, when it is one that reaches IPv4 hosts: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d).
 */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  if (bytes.length !== 16) return undefined;
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0);
  const mapped = zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff;
  const compatible = zeros(0, 12) && !zeros(12, 16);
  const nat64 = bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12);
  return mapped || compatible || nat64 ? bytes.slice(12).join('.') : undefined;
}

/** Whether an IP address lies in a range a webhook may not reach. */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return refused.check(address, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(address);
  if (v4 !== undefined) return refused.check(v4, 'ipv4');
  return refused.check(address.split('%')[0]!, 'ipv6');
}

/**
 * The hosts and networks webhooks may reach although they are private (WEBHOOK_ALLOWED_HOSTS):
 * host names (`localhost`), addresses (`127.0.0.1`, `::1`) and networks (`10.1.0.0/16`).
 */
export class AllowList {
  private readonly names = new Set<string>();
  private readonly networks = new BlockList();

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw
        .trim()
        .toLowerCase()
        .replace(/^\[|\]$/g, '');
      if (!entry) continue;
      const [network = '', prefix] = entry.split('/');
      const family = isIP(network);
      if (family === 0) {
        if (prefix !== undefined) throw new Error(`${raw}: not a network`);
        this.names.add(entry.replace(/\.$/, ''));
        continue;
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128))
        throw new Error(`${raw}: not a network`);
      this.networks.addSubnet(network, bits, type);
    }
  }

  /** Parses the comma-separated setting; throws on an entry that is neither a name nor a network. */
  static parse(setting: string): AllowList {
    return new AllowList(setting.split(','));
  }

  allowsHost(hostname: string): boolean {
    return this.names.has(normalizeHost(hostname));
  }

  allowsAddress(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const v4 = family === 6 ? embeddedIpv4(address) : undefined;
    if (v4 !== undefined && this.networks.check(v4, 'ipv4')) return true;
    return this.networks.check(address.split('%')[0]!, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** A URL's host name as DNS and the allow-list see it: no brackets, no trailing dot, lower case. */
export function normalizeHost(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** Why a URL is refused: a stable reason for `extensions.reason`, and words for a person. */
export class RefusedUrlError extends Error {
  constructor(
    readonly reason: 'INVALID_URL' | 'SCHEME' | 'HTTPS_REQUIRED' | 'CREDENTIALS' | 'ADDRESS' | 'UNRESOLVABLE',
    message: string,
  ) {
    super(message);
    this.name = 'RefusedUrlError';
  }
}

/** Every address of a host name; `allowListed` says the allow-list names it. */
export type Resolve = (hostname: string, allowListed: boolean) => Promise<LookupAddress[]>;

// Queried with c-ares over the network, not getaddrinfo: getaddrinfo blocks one of libuv's four
// threadpool threads for as long as a dead name server keeps it, so a few endpoints with broken
// DNS would stall every other endpoint's lookups (and the process's file and crypto work).
const resolver = new Resolver({ timeout: 2_000, tries: 2 });

/**
 * Public names through DNS (A and AAAA, with a bounded wait); allow-listed ones through the
 * system's resolver, which also reads /etc/hosts (`localhost`, names of a local network).
 */
export const resolveAll: Resolve = async (hostname, allowListed) => {
  if (allowListed)
    return new Promise((resolve, reject) =>
      dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
        error ? reject(error) : resolve(addresses),
      ),
    );
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
  const addresses: LookupAddress[] = [
    ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
    ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
  ];
  if (addresses.length === 0) throw new Error(`${hostname} has no address`);
  return addresses;
};

export interface AddressGuardOptions {
  allowList: AllowList;
  /** Plain http is accepted only here (and for allow-listed hosts); https everywhere else. */
  allowHttp: boolean;
  resolve?: Resolve;
}

/**
 * Decides whether a webhook URL may be called: http(s) only, https outside development, no
 * credentials in it, and a host that resolves to public addresses only (every address it
 * resolves to, so that a second DNS record cannot smuggle a private one in) or that the
 * allow-list names. Checked at registration and again at each delivery, where the address the
 * check accepted is the one connected to (`lookup`), so DNS cannot change between check and use.
 */
export class AddressGuard {
  private readonly resolve: Resolve;

  constructor(private readonly options: AddressGuardOptions) {
    this.resolve = options.resolve ?? resolveAll;
  }

  /** The URL, parsed, or a RefusedUrlError for anything a webhook may not be sent to. */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new RefusedUrlError('INVALID_URL', 'url must be an absolute http(s) URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new RefusedUrlError('SCHEME', 'url must use https (or http in development)');
    if (url.username || url.password)
      throw new RefusedUrlError('CREDENTIALS', 'url must not carry a user name or password');
    const allowListed = this.isAllowListed(url.hostname);
    if (url.protocol === 'http:' && !this.options.allowHttp && !allowListed)
      throw new RefusedUrlError('HTTPS_REQUIRED', 'url must use https');
    const literal = normalizeHost(url.hostname);
    if (isIP(literal) && !allowListed && isRefusedAddress(literal))
      throw new RefusedUrlError('ADDRESS', `${literal} is a private, loopback or link-local address`);
    return url;
  }

  /** checkUrl, and then every address the host resolves to. */
  async check(raw: string): Promise<URL> {
    const url = this.checkUrl(raw);
    const host = normalizeHost(url.hostname);
    if (isIP(host) || this.options.allowList.allowsHost(host)) return url;
    await this.publicAddresses(host);
    return url;
  }

  /** The host's addresses, when every one of them may be reached; else a RefusedUrlError. */
  async publicAddresses(hostname: string): Promise<LookupAddress[]> {
    const host = normalizeHost(hostname);
    if (isIP(host)) {
      if (!this.allowsAddress(host))
        throw new RefusedUrlError('ADDRESS', `${host} is a private, loopback or link-local address`);
      return [{ address: host, family: isIP(host) }];
    }
    const allowListed = this.options.allowList.allowsHost(host);
    let addresses: LookupAddress[];
    try {
      addresses = await this.resolve(host, allowListed);
    } catch {
      throw new RefusedUrlError('UNRESOLVABLE', `${host} does not resolve`);
    }
    if (addresses.length === 0) throw new RefusedUrlError('UNRESOLVABLE', `${host} does not resolve`);
    if (allowListed) return addresses;
    const blocked = addresses.find(({ address }) => !this.allowsAddress(address));
    if (blocked)
      throw new RefusedUrlError(
        'ADDRESS',
        `${host} resolves to ${blocked.address}, a private, loopback or link-local address`,
      );
    return addresses;
  }

  private isAllowListed(hostname: string): boolean {
    const host = normalizeHost(hostname);
    return this.options.allowList.allowsHost(host) || this.options.allowList.allowsAddress(host);
  }

  private allowsAddress(address: string): boolean {
    return this.options.allowList.allowsAddress(address) || !isRefusedAddress(address);
  }

  /**
   * A `lookup` for `net.connect` (undici's `connect.lookup`): resolves as DNS would and hands the
   * socket only addresses the guard accepts, so the connection goes where the check looked.
   */
  lookup(): (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ) => void {
    return (hostname, options, callback) => {
      this.publicAddresses(hostname).then(
        (addresses) => {
          if (options.all) callback(null, addresses);
          else callback(null, addresses[0]!.address, addresses[0]!.family);
        },
        (error: Error) => callback(Object.assign(error, { code: 'EREFUSED' }), ''),
      );
    };
  }
}
