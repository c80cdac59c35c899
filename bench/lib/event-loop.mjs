// How long the benchmark's own event loop stays blocked: what other requests of an
// in-process server would wait.

/**
 * Runs `fn` under a 1 ms interval and returns the longest gap between its ticks (ms), the
 * duration of `fn` (ms) and its result. Waits `settleMs` after `fn` so a tick held back by its
 * last block still fires and is counted.
 */
export async function longestBlock(fn, settleMs) {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const start = performance.now();
  const result = await fn();
  const duration = performance.now() - start;
  await new Promise((r) => setTimeout(r, settleMs));
  clearInterval(ticker);
  return { longest, duration, result };
}
