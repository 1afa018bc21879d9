/**
 * Which network addresses Gantry may connect to on a user's behalf (remote repositories' upstreams
 * now, webhook targets later). Without an explicit allowance, loopback, link-local (the cloud
 * metadata service at 169.254.169.254 among them), private, shared (CGNAT), unspecified, multicast
 * and reserved addresses are refused, in IPv4, IPv6 and IPv4-mapped IPv6 form: whoever may
 * configure a URL must not be able to make the server read its own admin ports or the internal
 * network and show them the answers.
 *
 * Precedence: an entry of `deny` refuses; else an entry of `allow` (a CIDR, an address, a host
 * name or `*.domain`) admits; else the built-in ranges refuse; else the address is admitted.
 * Host-name entries are matched against the name in the URL before resolution (the administrator
 * vouches for the name, wherever it points); every other check is made on the address actually
 * connected to (see guarded-lookup.ts), so DNS answers cannot slip past it.
 */
import { BlockList, isIP, isIPv4 } from 'node:net';

export interface AddressRule {
  /** How the rule is shown in messages, e.g. `loopback 127.0.0.0/8` or `upstreamDeny 10.1.0.0/16`. */
  label: string;
}

export type Verdict = { allowed: true; rule?: AddressRule } | { allowed: false; rule: AddressRule };

interface RangeRule extends AddressRule {
  list: BlockList;
}

const BUILT_IN_DENIED: readonly [string, string][] = [
  ['unspecified', '0.0.0.0/8'],
  ['loopback', '127.0.0.0/8'],
  ['private', '10.0.0.0/8'],
  ['private', '172.16.0.0/12'],
  ['private', '192.168.0.0/16'],
  ['link-local (cloud metadata)', '169.254.0.0/16'],
  ['shared address space (CGNAT)', '100.64.0.0/10'],
  ['IETF protocol assignments', '192.0.0.0/24'],
  ['benchmarking', '198.18.0.0/15'],
  ['multicast', '224.0.0.0/4'],
  ['reserved', '240.0.0.0/4'],
  ['unspecified', '::/128'],
  ['loopback', '::1/128'],
  ['IPv4-compatible', '::/96'],
  ['link-local', 'fe80::/10'],
  ['unique local (private)', 'fc00::/7'],
  ['multicast', 'ff00::/8'],
];

const HOST_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** Why a list entry is unusable, in words for the configuration error; undefined when fine. */
export function entryProblem(entry: string): string | undefined {
  if (parseRange(entry)) return undefined;
  if (entry.includes('/') || isIP(entry.replace(/^\[|\]$/g, '')))
    return `${JSON.stringify(entry)} is not a valid address or CIDR range`;
  if (!HOST_NAME.test(entry))
    return `${JSON.stringify(entry)} is neither an address, a CIDR range (10.0.0.0/8, fd00::/8) nor a host name (registry.internal, *.corp.example)`;
  return undefined;
}

/** True for an address or a CIDR range (as opposed to a host name). */
export function isAddressRange(entry: string): boolean {
  return parseRange(entry) !== undefined;
}

function parseRange(entry: string): { network: string; prefix: number; type: 'ipv4' | 'ipv6' } | undefined {
  const [rawNetwork = '', rawPrefix, ...rest] = entry.split('/');
  if (rest.length > 0) return undefined;
  const network = rawNetwork.replace(/^\[|\]$/g, '');
  const family = isIP(network);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = rawPrefix === undefined ? max : /^\d{1,3}$/.test(rawPrefix) ? Number(rawPrefix) : -1;
  if (prefix < 0 || prefix > max) return undefined;
  return { network, prefix, type: family === 4 ? 'ipv4' : 'ipv6' };
}

function rangeRule(label: string, entry: string): RangeRule {
  const range = parseRange(entry);
  if (!range) throw new TypeError(`not an address or CIDR range: ${entry}`);
  const list = new BlockList();
  list.addSubnet(range.network, range.prefix, range.type);
  return { label: `${label} ${entry}`, list };
}

/**
 * `::ffff:127.0.0.1` (and its hex spelling `::ffff:7f00:1`) is 127.0.0.1 to the kernel; checking
 * it only against the IPv6 rules would let every IPv4 range be reached through it.
 */
export function unmapped(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(bare) || isIP(bare) !== 6) return bare;
  const canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const high = Number.parseInt(mapped[1] as string, 16);
  const low = Number.parseInt(mapped[2] as string, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

export class AddressPolicy {
  readonly #deny: RangeRule[];
  readonly #allow: RangeRule[];
  readonly #allowedNames: string[];
  readonly #builtIn: RangeRule[];

  /** Entries are checked with entryProblem first (the configuration does); a bad one throws here. */
  constructor(
    options: {
      allow?: readonly string[];
      deny?: readonly string[];
      settingNames?: { allow: string; deny: string };
    } = {},
  ) {
    const names = options.settingNames ?? { allow: 'upstreamAllow', deny: 'upstreamDeny' };
    const problems = [...(options.allow ?? []), ...(options.deny ?? [])].flatMap(
      (e) => entryProblem(e) ?? [],
    );
    if (problems.length > 0) throw new TypeError(problems.join('; '));
    this.#deny = (options.deny ?? []).filter((e) => parseRange(e)).map((e) => rangeRule(names.deny, e));
    this.#allow = (options.allow ?? []).filter((e) => parseRange(e)).map((e) => rangeRule(names.allow, e));
    this.#allowedNames = (options.allow ?? [])
      .filter((e) => !parseRange(e))
      .map((e) => e.toLowerCase().replace(/\.$/, ''));
    const deniedNames = (options.deny ?? []).filter((e) => !parseRange(e));
    if (deniedNames.length > 0)
      throw new TypeError(
        `${names.deny} takes addresses and CIDR ranges only, not host names: ${deniedNames.join(', ')}`,
      );
    this.#builtIn = BUILT_IN_DENIED.map(([label, range]) => rangeRule(label, range));
  }

  /** Everything admitted: for tests of other things and for tools that talk to fixed hosts. */
  static allowAll(): AddressPolicy {
    return new AddressPolicy({ allow: ['0.0.0.0/0', '::/0'] });
  }

  /** True when the administrator admitted this host name itself (then its addresses are not checked). */
  allowsName(hostname: string): boolean {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    return this.#allowedNames.some((entry) =>
      entry.startsWith('*.') ? name.endsWith(entry.slice(1)) : name === entry,
    );
  }

  /**
   * The verdict for one resolved address (IPv4, IPv6 or IPv4-mapped IPv6); `hostname`, when it
   * was resolved from an allowed name, admits every address but those of `deny`.
   */
  checkAddress(address: string, hostname?: string): Verdict {
    const plain = unmapped(address);
    const type = isIPv4(plain) ? 'ipv4' : 'ipv6';
    const hit = (rules: RangeRule[]) => rules.find((r) => r.list.check(plain, type));
    const denied = hit(this.#deny);
    if (denied) return { allowed: false, rule: { label: denied.label } };
    if (hostname !== undefined && this.allowsName(hostname))
      return { allowed: true, rule: { label: `allowed host ${hostname}` } };
    const allowed = hit(this.#allow);
    if (allowed) return { allowed: true, rule: { label: allowed.label } };
    const builtIn = hit(this.#builtIn);
    if (builtIn) return { allowed: false, rule: { label: builtIn.label } };
    return { allowed: true };
  }

  /**
   * What can be decided from a URL's host without resolving it: a literal address is checked
   * (Node never runs a lookup for one), `localhost` and `*.localhost` are loopback by definition
   * (RFC 6761) unless allowed by name. Undefined: a name, decided when it is resolved.
   */
  checkHost(hostname: string): Verdict | undefined {
    const bare = hostname.replace(/^\[|\]$/g, '');
    if (isIP(bare)) return this.checkAddress(bare);
    if (this.allowsName(bare)) return { allowed: true, rule: { label: `allowed host ${bare}` } };
    const name = bare.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) {
      return { allowed: false, rule: { label: 'loopback (localhost names)' } };
    }
    return undefined;
  }
}

/** The error a refused address raises; `code` lets network error handling recognise it. */
export class AddressDeniedError extends Error {
  override readonly name = 'AddressDeniedError';
  readonly code = 'ERR_ADDRESS_DENIED';

  constructor(
    readonly host: string,
    readonly address: string,
    readonly rule: AddressRule,
  ) {
    super(
      `${host === address ? address : `${host} (${address})`} is in a range Gantry does not connect to (${rule.label})`,
    );
  }
}
