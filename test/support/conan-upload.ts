import { createHash } from 'node:crypto';

// Uploads over the Conan API as the client does (files, then the manifest that
// publishes the revision). Erasable TypeScript only: scripts run it with node.

const md5 = (data: string) => createHash('md5').update(data).digest('hex');
const sha1 = (data: string) => createHash('sha1').update(data).digest('hex');

/** `name/version@user/channel` parts, `_` for none. */
export interface Ref {
  name: string;
  version: string;
  user?: string;
  channel?: string;
}

const recipePath = (ref: Ref, rrev: string) =>
  `/v2/conans/${ref.name}/${ref.version}/${ref.user ?? '_'}/${ref.channel ?? '_'}/revisions/${rrev}`;

async function putFiles(apiUrl: string, authorization: string, base: string, files: Record<string, string>): Promise<number> {
  const manifest = `1700000000\n${Object.entries(files)
    .map(([path, body]) => `${path}: ${md5(body)}`)
    .join('\n')}\n`;
  // The manifest last: it is what publishes the revision.
  for (const [path, body] of [...Object.entries(files), ['conanmanifest.txt', manifest] as const]) {
    const response = await fetch(`${apiUrl}${base}/files/${path.split('/').map(encodeURIComponent).join('/')}`, {
      method: 'PUT',
      body,
      headers: { authorization, 'x-checksum-sha1': sha1(body) },
    });
    if (response.status !== 200) return response.status;
  }
  return 200;
}

/** Publishes a recipe revision over the Conan API as the client does; returns the last status. */
export function publishRecipe(apiUrl: string, authorization: string, ref: Ref, rrev: string, files: Record<string, string>) {
  return putFiles(apiUrl, authorization, recipePath(ref, rrev), files);
}

/** Publishes a package revision (its conaninfo.txt and other files) of a recipe revision. */
export async function publishPackage(
  apiUrl: string,
  authorization: string,
  ref: Ref,
  rrev: string,
  packageId: string,
  prev: string,
  files: Record<string, string>,
) {
  const status = await putFiles(apiUrl, authorization, `${recipePath(ref, rrev)}/packages/${packageId}/revisions/${prev}`, files);
  if (status !== 200) throw new Error(`publishing ${ref.name}:${packageId} answered ${status}`);
}

/** conaninfo.txt as Conan 2 writes it. */
export function conaninfo(settings: Record<string, string>, options: Record<string, string>, requires: string[] = []): string {
  const section = (name: string, entries: string[]) => (entries.length ? `[${name}]\n${entries.map((e) => `${e}\n`).join('')}\n` : '');
  return (
    section('settings', Object.entries(settings).map(([k, v]) => `${k}=${v}`)) +
    section('options', Object.entries(options).map(([k, v]) => `${k}=${v}`)) +
    section('requires', requires)
  );
}
