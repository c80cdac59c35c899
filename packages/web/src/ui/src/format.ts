/** `2026-11-22 21:02 UTC` from the API's ISO times. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `name/version` or `name/version@user/channel`. */
export function referenceOf(name: string, version: string, user: string | null, channel: string | null): string {
  return user ? `${name}/${version}@${user}/${channel ?? '_'}` : `${name}/${version}`;
}

/** `_` stands for "no user/channel" in paths, as on the Conan API. */
export const segment = (value: string | null | undefined): string => value || '_';
export const fromSegment = (value: string): string | null => (value === '_' ? null : value);
