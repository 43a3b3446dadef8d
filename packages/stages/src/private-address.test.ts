import { describe, expect, it } from 'vitest';
import { nonPublicReason, parseIPv6 } from './private-address.ts';

describe('nonPublicReason', () => {
  it('refuses private, loopback, link-local, shared, reserved and multicast IPv4', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['10.0.0.1', 'private'],
      ['10.255.255.255', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'shared address space (carrier-grade NAT)'],
      ['0.0.0.0', 'this network'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['198.18.0.1', 'benchmarking'],
    ];
    for (const [address, reason] of cases) expect(nonPublicReason(address), address).toBe(reason);
  });

  it('accepts public IPv4 next to the private ranges', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.0', '11.0.0.0', '100.128.0.0', '169.253.255.255', '192.169.0.0', '126.255.255.255']) {
      expect(nonPublicReason(address), address).toBeUndefined();
    }
  });

  it('refuses loopback, unspecified, link-local, unique-local, site-local and multicast IPv6', () => {
    const cases: [string, string][] = [
      ['::1', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['febf:ffff::1', 'link-local'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456:789a::1', 'unique-local'],
      ['fec0::1', 'site-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'documentation'],
      ['64:ff9b:1::1', 'local-use NAT64'],
    ];
    for (const [address, reason] of cases) expect(nonPublicReason(address), address).toBe(reason);
  });

  it('judges IPv6 forms that carry an IPv4 address by that address', () => {
    expect(nonPublicReason('::ffff:127.0.0.1')).toBe('IPv4-mapped loopback');
    expect(nonPublicReason('::ffff:7f00:1')).toBe('IPv4-mapped loopback');
    expect(nonPublicReason('::FFFF:10.1.2.3')).toBe('IPv4-mapped private');
    expect(nonPublicReason('::ffff:169.254.169.254')).toBe('IPv4-mapped link-local');
    expect(nonPublicReason('::ffff:0:192.168.0.1')).toBe('IPv4-translated private');
    expect(nonPublicReason('64:ff9b::10.0.0.1')).toBe('NAT64 private');
    expect(nonPublicReason('2002:7f00:1::')).toBe('6to4 loopback');
    expect(nonPublicReason('::127.0.0.1')).toBe('IPv4-compatible');
    expect(nonPublicReason('::ffff:8.8.8.8')).toBeUndefined();
    expect(nonPublicReason('64:ff9b::8.8.8.8')).toBeUndefined();
    expect(nonPublicReason('2002:808:808::1')).toBeUndefined();
  });

  it('accepts public IPv6 and refuses what is not an address', () => {
    expect(nonPublicReason('2606:4700:4700::1111')).toBeUndefined();
    expect(nonPublicReason('2a00:1450:4001:80b::200e')).toBeUndefined();
    expect(nonPublicReason('fbff::1')).toBeUndefined();
    expect(nonPublicReason('localhost')).toBe('not an IP address');
    expect(nonPublicReason('1.2.3')).toBe('not an IP address');
  });

  it('parses IPv6 text forms to the same groups', () => {
    expect([...parseIPv6('::ffff:127.0.0.1')!]).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    expect([...parseIPv6('1::')!]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect([...parseIPv6('1:2:3:4:5:6:7:8')!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...parseIPv6('1:2:3:4:5:6:1.2.3.4')!]).toEqual([1, 2, 3, 4, 5, 6, 0x102, 0x304]);
    expect(parseIPv6('1:::2')).toBeUndefined();
  });
});
