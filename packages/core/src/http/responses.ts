import type { RevisionEntry } from '../metadata/metadata-store.js';
import { withDirectBody } from './node-fast-path.js';

/** Times formatted lately: the same revisions are answered over and over, and formatting a date is not cheap. */
const formatted = new Map<number, string>();
const FORMATTED_MAX = 1024;

/** ISO 8601 UTC with microseconds, as conan_server writes revision times. */
export function formatTime(micros: number): string {
  let time = formatted.get(micros);
  if (time === undefined) {
    if (formatted.size >= FORMATTED_MAX) formatted.clear();
    time = formatTimeNow(micros);
    formatted.set(micros, time);
  }
  return time;
}

function formatTimeNow(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString(); // 2026-11-22T21:02:21.321Z
  const fraction = String(Math.trunc(micros) % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 19)}.${fraction}+00:00`;
}

export function revisionJson(entry: RevisionEntry) {
  return { revision: entry.revision, time: formatTime(entry.timeMicros) };
}

/**
 * A small body answered whole: a `Response` any host can read, tagged so
 * that the Node bridge writes `data` to the socket itself rather than
 * reading it back through the web stream (node-fast-path.ts).
 */
export function small(data: string, status: number, headers: Record<string, string>): Response {
  return withDirectBody(new Response(data, { status, headers }), { kind: 'bytes', data });
}

export function json(body: unknown, status = 200): Response {
  return small(JSON.stringify(body), status, { 'content-type': 'application/json' });
}

export function text(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return small(body, status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
}

export function empty(status = 200, headers: Record<string, string> = {}): Response {
  // No body at all (not an empty one): the fetch API refuses a body on 204/304.
  return withDirectBody(new Response(null, { status, headers: { 'content-length': '0', ...headers } }), { kind: 'bytes', data: '' });
}

/** The same status and headers, no body: the answer to HEAD. */
export function withoutBody(response: Response): Response {
  void response.body?.cancel();
  return new Response(null, { status: response.status, headers: response.headers });
}
