/** How a promise settled, and after how many ms. */
export type Settled =
  | { outcome: 'resolved'; value: unknown; ms: number }
  | { outcome: 'rejected'; error: unknown; ms: number }
  | { outcome: 'hung'; ms: number };

/**
 * How `promise` settles, and after how many ms; gives up (`outcome: 'hung'`) after `boundMs`,
 * so that a call that hangs fails the test with a clear message instead of its timeout.
 */
export async function settle(promise: Promise<unknown>, boundMs: number): Promise<Settled> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<{ outcome: 'hung' }>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: 'hung' }), boundMs);
  });
  const result = await Promise.race([
    promise.then(
      (value) => ({ outcome: 'resolved' as const, value }),
      (error: unknown) => ({ outcome: 'rejected' as const, error }),
    ),
    hung,
  ]);
  clearTimeout(timer);
  return { ...result, ms: Date.now() - started };
}
