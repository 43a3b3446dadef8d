import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses an ingest stage may not fetch from unless its host is allow-listed: anything
 * that is not a public unicast address. A pipeline is submitted by people who do not run the
 * workers; letting it fetch from loopback, the cluster network or the cloud metadata service
 * (169.254.169.254) would hand them the workers' network position (server-side request forgery).
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible,
 * IPv4-translated, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address they
 * carry, so `::ffff:127.0.0.1` is loopback.
 */

interface Range4 {
  base: number;
  bits: number;
  name: string;
}

const V4_RANGES: Range4[] = [
  range4('0.0.0.0', 8, 'this network'),
  range4('10.0.0.0', 8, 'private'),
  range4('100.64.0.0', 10, 'shared address space (carrier-grade NAT)'),
  range4('127.0.0.0', 8, 'loopback'),
  range4('169.254.0.0', 16, 'link-local'),
  range4('172.16.0.0', 12, 'private'),
  range4('192.0.0.0', 24, 'IETF protocol assignments'),
  range4('192.0.2.0', 24, 'documentation'),
  range4('192.88.99.0', 24, '6to4 relay anycast'),
  range4('192.168.0.0', 16, 'private'),
  range4('198.18.0.0', 15, 'benchmarking'),
  range4('198.51.100.0', 24, 'documentation'),
  range4('203.0.113.0', 24, 'documentation'),
  range4('224.0.0.0', 4, 'multicast'),
  range4('240.0.0.0', 4, 'reserved'),
];

function range4(address: string, bits: number, name: string): Range4 {
  return { base: parseIPv4(address)!, bits, name };
}

/** An IPv4 address in dotted-quad form as an unsigned 32-bit number. */
export function parseIPv4(address: string): number | undefined {
  if (!isIPv4(address)) return undefined;
  const parts = address.split('.').map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** An IPv6 address (with `::`, an embedded dotted quad or a `%zone`) as eight 16-bit groups. */
export function parseIPv6(address: string): Uint16Array | undefined {
  const bare = address.replace(/%.*$/, '');
  if (!isIPv6(bare)) return undefined;
  let text = bare;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIPv4(dotted[1]!)!;
    tail.push(v4 >>> 16, v4 & 0xffff);
    text = text.slice(0, -dotted[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const groups = new Uint16Array(8);
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':').map((g) => parseInt(g, 16));
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':').map((g) => parseInt(g, 16));
  const all = rest === undefined ? [...headGroups, ...tail] : [...headGroups, ...new Array<number>(8 - headGroups.length - restGroups.length - tail.length).fill(0), ...restGroups, ...tail];
  if (all.length !== 8) return undefined;
  all.forEach((g, i) => (groups[i] = g));
  return groups;
}

/**
 * Why `address` is not a public unicast address (e.g. `loopback`, `private`, `link-local`), or
 * undefined when it is public. Anything that does not parse as an IP address is refused too.
 */
export function nonPublicReason(address: string): string | undefined {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return reason4(v4);
  const g = parseIPv6(address);
  if (g === undefined) return 'not an IP address';
  const zero = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  const embedded = (hi: number, lo: number): number => ((hi << 16) | lo) >>> 0;
  if (zero(0, 8)) return 'unspecified';
  if (zero(0, 7) && g[7] === 1) return 'loopback';
  // ::ffff:a.b.c.d (IPv4-mapped) and ::ffff:0:a.b.c.d (IPv4-translated)
  if (zero(0, 5) && g[5] === 0xffff) return prefixed('IPv4-mapped', reason4(embedded(g[6]!, g[7]!)));
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return prefixed('IPv4-translated', reason4(embedded(g[6]!, g[7]!)));
  // ::a.b.c.d (IPv4-compatible, deprecated): nothing public routes these any more.
  if (zero(0, 6)) return 'IPv4-compatible';
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return prefixed('NAT64', reason4(embedded(g[6]!, g[7]!)));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'local-use NAT64';
  if (g[0] === 0x100 && zero(1, 4)) return 'discard-only';
  if (g[0] === 0x2001 && g[1] === 0) return 'Teredo';
  if (g[0] === 0x2001 && g[1]! >= 0x10 && g[1]! <= 0x2f) return 'ORCHID';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation';
  if (g[0] === 0x2002) return prefixed('6to4', reason4(embedded(g[1]!, g[2]!)));
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'site-local';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

function reason4(address: number): string | undefined {
  for (const range of V4_RANGES) {
    const mask = range.bits === 0 ? 0 : (~0 << (32 - range.bits)) >>> 0;
    if (((address & mask) >>> 0) === range.base) return range.name;
  }
  return undefined;
}

function prefixed(kind: string, inner: string | undefined): string | undefined {
  return inner === undefined ? undefined : `${kind} ${inner}`;
}
