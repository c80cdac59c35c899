import { createHash } from 'node:crypto';
import { request } from 'node:http';

/**
 * Starts a PUT of `bytes` to `fileUrl` on a connection of its own and sends
 * the `first` bytes of it; `finish` sends the rest. `status` is the response
 * status, or -1 when the server cut the connection.
 */
export function slowUpload(fileUrl: string, token: string, bytes: Uint8Array, first: number): { status: Promise<number>; finish: () => void } {
  const req = request(fileUrl, {
    method: 'PUT',
    agent: false,
    headers: { authorization: `Bearer ${token}`, 'content-length': bytes.length, 'x-checksum-sha1': createHash('sha1').update(bytes).digest('hex') },
  });
  const status = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', () => resolve(-1));
  });
  req.write(bytes.subarray(0, first));
  return { status, finish: () => void req.end(bytes.subarray(first)) };
}
