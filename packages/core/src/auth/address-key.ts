import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** Longest key kept as is; longer ones (custom address resolvers, long user names) are hashed. */
const MAX_PLAIN_KEY = 128;

/** `value`, or its sha256 when it is long: keys of in-memory maps stay small whatever the caller sends. */
export function boundedKey(value: string): string {
  return value.length <= MAX_PLAIN_KEY ? value : `sha256:${createHash('sha256').update(value).digest('base64url')}`;
}

/**
 * The key login throttling counts a client address under. IPv4 (also when
 * written as `::ffff:a.b.c.d`) counts per address; IPv6 per /64, the block
 * a single host or home network usually holds, so cycling through one's own
 * addresses does not escape the limit. Anything else (an address from a
 * custom resolver) is used as given, hashed when long.
 */
export function addressKey(address: string): string {
  let a = address.trim();
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(a)) return a;
  if (isIPv6(a)) return `${ipv6Groups(a).slice(0, 4).join(':')}::/64`;
  return boundedKey(address);
}

/** The 8 groups of a valid IPv6 address, lower case without leading zeros (an embedded IPv4 tail becomes two groups). */
function ipv6Groups(address: string): string[] {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head = '', tail] = text.split('::', 2);
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
