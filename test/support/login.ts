import { expect } from 'vitest';

/** `Authorization` header value for HTTP Basic. */
export const basicAuth = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Logs in as `conan remote login` does and returns the session token. */
export async function login(apiUrl: string, user: string, password: string): Promise<string> {
  const response = await fetch(`${apiUrl}/v2/users/authenticate`, { headers: { authorization: basicAuth(user, password) } });
  expect(response.status, `login of ${user}`).toBe(200);
  return response.text();
}
