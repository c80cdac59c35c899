import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../src/cluster/restart-backoff.js';

describe('restart backoff of --workers', () => {
  it('replaces a rare crash quickly, doubles while workers keep dying, caps, and forgets old exits', () => {
    const backoff = new RestartBackoff({ initialMs: 500, maxMs: 30_000, windowMs: 60_000 });
    expect([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000].map((at) => backoff.next(at))).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    // A minute after the last of them, a crash is a rare one again.
    expect(backoff.next(7000 + 60_000)).toBe(500);
  });
});
