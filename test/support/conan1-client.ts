import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { basicAuth } from './login.js';

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
export const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');

/** A recipe's files as a Conan 1 client uploads them: a conanfile, optional sources, the manifest listing the conanfile. */
export function recipeFiles(conanfile: string, sources?: Uint8Array): Record<string, Uint8Array> {
  const py = new TextEncoder().encode(conanfile);
  return {
    'conanfile.py': py,
    ...(sources ? { 'conan_sources.tgz': sources } : {}),
    'conanmanifest.txt': new TextEncoder().encode(`1795902580\nconanfile.py: ${md5(py)}\n`),
  };
}

/** A binary's files: its conaninfo.txt, its archive, the manifest listing the conaninfo. */
export function packageFiles(archive: Uint8Array, info = '[settings]\n    os=Linux\n\n[recipe_hash]\n    0123456789abcdef\n'): Record<string, Uint8Array> {
  const conaninfo = new TextEncoder().encode(info);
  return {
    'conan_package.tgz': archive,
    'conaninfo.txt': conaninfo,
    'conanmanifest.txt': new TextEncoder().encode(`1795902581\nconaninfo.txt: ${md5(conaninfo)}\n`),
  };
}

/** The requests of the Conan 1.65 client in v1 mode, as PROTOCOL.md describes them. */
export class Conan1Client {
  constructor(
    readonly apiUrl: string,
    private token?: string,
  ) {}

  async login(user: string, password: string): Promise<void> {
    const response = await fetch(`${this.apiUrl}/v1/users/authenticate`, { headers: { authorization: basicAuth(user, password) } });
    expect(response.status, `login of ${user}`).toBe(200);
    this.token = await response.text();
  }

  private headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** `GET` or `POST` a v1 API route (`/conans/...`). */
  api(path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
    return fetch(`${this.apiUrl}/v1${path}`, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers: { ...this.headers(), ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  }

  async uploadUrls(ref: string, files: Record<string, Uint8Array>, packageId?: string): Promise<Record<string, string>> {
    const sizes = Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, bytes.byteLength]));
    const response = await this.api(`/conans/${ref}${packageId ? `/packages/${packageId}` : ''}/upload_urls`, { json: sizes });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Record<string, string>;
  }

  /** PUTs one file as the client does: no Authorization, no Content-Type, its sha1. */
  static put(url: string, bytes: Uint8Array): Promise<Response> {
    return fetch(url, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'x-checksum-sha1': sha1(bytes) } });
  }

  /** `upload_urls` then every file in name order (the manifest last, as the client sends it). */
  async upload(ref: string, files: Record<string, Uint8Array>, packageId?: string): Promise<Record<string, string>> {
    const urls = await this.uploadUrls(ref, files, packageId);
    for (const name of Object.keys(urls).sort()) {
      const response = await Conan1Client.put(urls[name]!, files[name]!);
      expect(response.status, `PUT ${name}: ${await response.clone().text()}`).toBe(200);
    }
    return urls;
  }

  /** `download_urls` then every file, redirects followed. */
  async download(ref: string, packageId?: string): Promise<Record<string, Uint8Array>> {
    const response = await this.api(`/conans/${ref}${packageId ? `/packages/${packageId}` : ''}/download_urls`);
    expect(response.status, await response.clone().text()).toBe(200);
    const urls = (await response.json()) as Record<string, string>;
    const files: Record<string, Uint8Array> = {};
    for (const [name, url] of Object.entries(urls)) {
      const file = await fetch(url);
      expect(file.status, `GET ${name}`).toBe(200);
      files[name] = new Uint8Array(await file.arrayBuffer());
    }
    return files;
  }
}
