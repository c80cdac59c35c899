import { request } from 'node:http';

const MiB = 1024 * 1024;

/**
 * PUTs `mib` MiB of one repeated 1 MiB buffer to `url` on a fresh connection, with
 * backpressure (the client holds no file); resolves with the status once the answer is read.
 * Written with erasable TypeScript only: bench scripts import it with `node`.
 */
export function streamUpload(url: string, headers: Record<string, string>, mib: number): Promise<number> {
  const chunk = Buffer.alloc(MiB, 0x5a);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { ...headers, 'content-length': String(mib * MiB) }, agent: false });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    let sent = 0;
    const write = () => {
      while (sent < mib) {
        sent += 1;
        if (sent === mib) req.end(chunk);
        else if (!req.write(chunk)) return void req.once('drain', write);
      }
    };
    write();
  });
}
