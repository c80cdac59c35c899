/**
 * Runs `start` and waits for it at most `ms` milliseconds: its value, or
 * `'timeout'` when the deadline came first. The deadline starts before
 * `start` runs, so it fires before any deadline of the same length that
 * `start` sets itself. A rejection before the deadline is thrown; one after
 * it is dropped (nobody waits for that promise any more).
 */
export async function withinDeadline<T>(ms: number, start: () => Promise<T>): Promise<{ value: T } | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, ms, 'timeout');
  });
  const promise = start();
  try {
    return await Promise.race([promise.then((value) => ({ value })), deadline]);
  } finally {
    clearTimeout(timer);
    promise.catch(() => {});
  }
}
