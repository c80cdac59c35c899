import type { RevisionEntry } from '../metadata/metadata-store.js';

/** ISO 8601 UTC with microseconds, as conan_server writes revision times. */
export function formatTime(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString(); // 2026-11-22T21:02:21.321Z
  const fraction = String(Math.trunc(micros) % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 19)}.${fraction}+00:00`;
}

export function revisionJson(entry: RevisionEntry) {
  return { revision: entry.revision, time: formatTime(entry.timeMicros) };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

export function text(body: string, status = 200): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

export function empty(status = 200, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { 'content-length': '0', ...headers } });
}
