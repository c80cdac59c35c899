import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** At most this many addresses of other interfaces are named; a host may have dozens (containers, VPNs). */
const MAX_ADDRESSES = 3;

/** How the line saying where the server listens starts. */
export const LISTENING_PREFIX = 'Cimmeria listening on';

const urlOf = (address: string, port: number) => `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

/**
 * The line `cimmeria serve` prints once it listens, saying where it really
 * listens. A specific address gives its URL. `0.0.0.0` and `::` accept
 * connections on every interface: the line says so, with the URL to use
 * from this machine and the addresses other machines may use.
 */
export function listeningLine(
  host: string,
  port: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string {
  if (host !== '0.0.0.0' && host !== '::') return `${LISTENING_PREFIX} ${urlOf(host, port)}`;
  const ipv4Only = host === '0.0.0.0';
  const here = urlOf(ipv4Only ? '127.0.0.1' : '::1', port);
  const others = Object.values(interfaces)
    .flatMap((infos) => infos ?? [])
    // Link-local IPv6 addresses need a zone (%eth0) that URLs cannot carry.
    .filter((info) => !info.internal && (info.family === 'IPv4' || (!ipv4Only && !info.address.toLowerCase().startsWith('fe80:'))))
    .map((info) => urlOf(info.address, port));
  const unique = [...new Set(others)];
  const named = unique.slice(0, MAX_ADDRESSES).join(', ');
  const more = unique.length > MAX_ADDRESSES ? ` (and ${unique.length - MAX_ADDRESSES} more)` : '';
  return (
    `${LISTENING_PREFIX} all ${ipv4Only ? 'IPv4 ' : ''}interfaces, port ${port}: ${here} from this machine` +
    (unique.length > 0 ? `; from others ${named}${more}` : '')
  );
}
