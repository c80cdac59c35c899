import { API_BASE } from './locations';

/** An API answer other than 2xx. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function failure(response: Response): Promise<ApiError> {
  const body = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (parsed.error && typeof parsed.error.message === 'string') {
      return new ApiError(response.status, String(parsed.error.code ?? response.status), parsed.error.message);
    }
  } catch {
    // Not JSON: the text is the message.
  }
  return new ApiError(response.status, String(response.status), body.slice(0, 300) || response.statusText);
}

/** Path segments are encoded one by one: names come from uploads. */
export function apiPath(...segments: string[]): string {
  return segments.map(encodeURIComponent).join('/');
}

/**
 * Calls the JSON API. The session cookie goes along (same origin); state
 * changes carry `X-Cimmeria-Request`, which the server requires of cookie
 * sessions so that no cross-site form can make them.
 */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['x-cimmeria-request'] = '1';
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, API_BASE), {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}
