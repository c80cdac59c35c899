import { connect } from 'node:net';

/**
 * One HTTP/1.1 request written byte for byte on a fresh socket. fetch() and
 * node:http normalize or refuse much of what a hostile client sends (dot
 * segments, odd header bytes, a Content-Length that does not match the body),
 * so the fuzz test writes requests itself.
 */
export interface RawRequest {
  method: string;
  /** The request target exactly as sent, e.g. `/v2/conans/a/1.0/_/_/latest?x=%2e`. */
  target: string;
  /** Header lines in order; values are written as latin1, so any byte 0x00-0xff can be sent. */
  headers: Array<[string, string]>;
  body: Uint8Array;
  /**
   * `exact`: Content-Length is the body's length (unless a header already sets one:
   * then the socket is half-closed after the body, as for `short`).
   * `short`: declares more bytes than sent, then half-closes (a client cut off mid-upload).
   * `long`: declares fewer bytes than sent (the rest is garbage after the request).
   * `chunked`: `Transfer-Encoding: chunked`, the body in one chunk.
   * `none`: no Content-Length is added.
   */
  framing: 'exact' | 'short' | 'long' | 'chunked' | 'none';
}

/** What came back: the final status, or none when the server closed without answering. */
export interface RawResponse {
  status: number | undefined;
  /** The first bytes of the answer, for failure messages. */
  head: string;
}

/** Thrown when no answer (or close) arrives in time: the server hangs on this request. */
export class RawRequestTimeout extends Error {}

/** Sends `request` to 127.0.0.1:`port` with `Connection: close` and reads the answer until the server closes. */
export function sendRaw(port: number, request: RawRequest, timeoutMs: number): Promise<RawResponse> {
  const lines = [`${request.method} ${request.target} HTTP/1.1`];
  const names = new Set(request.headers.map(([name]) => name.toLowerCase()));
  if (!names.has('host')) lines.push(`Host: 127.0.0.1:${port}`);
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const length = request.body.length;
  const framedByCaller = names.has('content-length') || names.has('transfer-encoding');
  if (!framedByCaller) {
    if (request.framing === 'exact' && (length > 0 || request.method === 'PUT')) lines.push(`Content-Length: ${length}`);
    if (request.framing === 'short') lines.push(`Content-Length: ${length + 1 + (length >> 1)}`);
    if (request.framing === 'long') lines.push(`Content-Length: ${length >> 1}`);
    if (request.framing === 'chunked') lines.push('Transfer-Encoding: chunked');
  }
  if (!names.has('connection')) lines.push('Connection: close');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RawRequestTimeout(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: finalStatus(text), head: text.slice(0, 200) });
    };
    socket.on('data', (chunk: Buffer) => {
      // Only the head matters; keep a bounded prefix of big downloads.
      if (received < 64 * 1024) chunks.push(chunk);
      received += chunk.length;
    });
    socket.on('end', () => socket.end());
    // A server that answers early (413, 400) and closes may reset a socket still sending: that is an answer too.
    socket.on('error', () => socket.destroy());
    socket.on('close', finish);
    socket.on('connect', () => {
      socket.write(head);
      if (request.framing === 'chunked') {
        if (length > 0) socket.write(Buffer.concat([Buffer.from(`${length.toString(16)}\r\n`), request.body, Buffer.from('\r\n')]));
        socket.write('0\r\n\r\n');
      } else if (length > 0) {
        socket.write(request.body);
      }
      // A client cut off mid-upload, or one whose own framing headers may promise
      // more than it sends: the server must not wait for the rest. Only then:
      // node:http aborts the requests of a connection whose client half-closes.
      if (request.framing === 'short' || framedByCaller) socket.end();
    });
  });
}

/** The status of the final response head at the start of `text`, skipping interim 1xx answers. */
function finalStatus(text: string): number | undefined {
  let rest = text;
  for (;;) {
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(rest);
    if (!match) return undefined;
    const status = Number(match[1]);
    const end = rest.indexOf('\r\n\r\n');
    if (status >= 200 || end === -1) return status;
    rest = rest.slice(end + 4);
  }
}
