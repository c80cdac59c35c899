import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { listeningLine } from '../src/listen-address.js';

// Tests bind 127.0.0.1 only, so the line for 0.0.0.0 and :: is checked here, on
// a made-up machine; serve tests check the line of a real server on 127.0.0.1.
const info = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo;
const MACHINE = {
  lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
  eth0: [info('10.1.2.3', 'IPv4'), info('fd00::5', 'IPv6'), info('fe80::1', 'IPv6')],
};

describe('item 7: the line cimmeria serve prints says where it really listens', () => {
  it('on 0.0.0.0: all IPv4 interfaces, the URL for this machine and the addresses for others', () => {
    expect(listeningLine('0.0.0.0', 9300, MACHINE)).toBe(
      'Cimmeria listening on all IPv4 interfaces, port 9300: http://127.0.0.1:9300 from this machine; from others http://10.1.2.3:9300',
    );
  });

  it('on ::: all interfaces, IPv6 included (link-local addresses left out: a URL cannot name their zone)', () => {
    expect(listeningLine('::', 9300, MACHINE)).toBe(
      'Cimmeria listening on all interfaces, port 9300: http://[::1]:9300 from this machine; from others http://10.1.2.3:9300, http://[fd00::5]:9300',
    );
  });

  it('names a few addresses, not dozens', () => {
    const many = { eth: Array.from({ length: 6 }, (_, i) => info(`10.0.0.${i + 1}`, 'IPv4')) };
    expect(listeningLine('0.0.0.0', 80, many)).toBe(
      'Cimmeria listening on all IPv4 interfaces, port 80: http://127.0.0.1:80 from this machine; from others http://10.0.0.1:80, http://10.0.0.2:80, http://10.0.0.3:80 (and 3 more)',
    );
  });

  it('on a machine with loopback only, only the URL for this machine', () => {
    expect(listeningLine('0.0.0.0', 9300, { lo: MACHINE.lo })).toBe(
      'Cimmeria listening on all IPv4 interfaces, port 9300: http://127.0.0.1:9300 from this machine',
    );
  });

  it('on one address: that URL, as before', () => {
    expect(listeningLine('127.0.0.1', 9300, MACHINE)).toBe('Cimmeria listening on http://127.0.0.1:9300');
    expect(listeningLine('10.1.2.3', 9300, MACHINE)).toBe('Cimmeria listening on http://10.1.2.3:9300');
    expect(listeningLine('::1', 9300, MACHINE)).toBe('Cimmeria listening on http://[::1]:9300');
  });
});
