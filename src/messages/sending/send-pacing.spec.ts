import { afterSend, expectedSendAt, nextSendAllowedAt, sessionPacing } from './send-pacing';

const settings = { ratePerMinute: 60, burst: 3, jitterMs: 0 };

describe('send pacing (GCRA)', () => {
  it('lets a burst go at once, then one message per interval', () => {
    let tat: number | null = null;
    const sentAt: number[] = [];
    let now = 1_000_000;
    while (sentAt.length < 6) {
      const allowed = nextSendAllowedAt(tat, now, settings);
      now = Math.max(now, allowed);
      sentAt.push(now);
      tat = afterSend(tat, now, settings, 0);
    }
    expect(sentAt.map((at) => at - 1_000_000)).toEqual([0, 0, 0, 1000, 2000, 3000]);
  });

  it('predicts the send time of the n-th queued message as the loop above sends it', () => {
    let tat: number | null = null;
    const now = 5_000;
    const predicted = [0, 1, 2, 3, 4, 5].map((ahead) => expectedSendAt(tat, now, ahead, settings));
    expect(predicted).toEqual([5000, 5000, 5000, 6000, 7000, 8000]);
    tat = afterSend(tat, now, settings, 0);
    expect(expectedSendAt(tat, now, 0, settings)).toBe(5000);
  });

  it('adds up to jitterMs of delay after each message', () => {
    expect(afterSend(null, 0, { ...settings, jitterMs: 500 }, 0.5)).toBe(1250);
    expect(afterSend(null, 0, { ...settings, jitterMs: 500 }, 0.999)).toBeLessThan(1500);
  });

  it('recovers credit while idle, never more than the burst', () => {
    const tat = afterSend(afterSend(null, 0, settings, 0), 0, settings, 0);
    expect(nextSendAllowedAt(tat, 100_000, settings)).toBe(100_000);
    expect(expectedSendAt(tat, 100_000, 3, settings)).toBe(101_000);
  });

  it("uses the session's own settings when it has them, else the defaults", () => {
    const own = { ratePerMinute: 30, burst: 1, jitterMs: 0 };
    expect(sessionPacing(null, settings)).toEqual(settings);
    expect(sessionPacing(own, settings)).toEqual(own);
    // One at once, then one every 2 s.
    expect([0, 1, 2].map((ahead) => expectedSendAt(null, 0, ahead, sessionPacing(own, settings)))).toEqual([0, 2000, 4000]);
  });

  it('a change of settings cuts the debt built up under the old ones to the new bound, never into credit', () => {
    const slow = { ratePerMinute: 1, burst: 3, jitterMs: 0 };
    const fast = { ratePerMinute: 6000, burst: 3, jitterMs: 0 };
    let tat: number | null = null;
    for (let i = 0; i < 3; i++) tat = afterSend(tat, 0, slow, 0);
    expect(tat).toBe(180_000);
    expect(nextSendAllowedAt(tat, 0, slow)).toBe(60_000);
    // At 10 ms an interval, the 3 min of debt is cut to a spent burst: the next goes at 10 ms, not in 3 min.
    expect(nextSendAllowedAt(tat, 0, fast)).toBe(10);
    expect(expectedSendAt(tat, 0, 2, fast)).toBe(30);
    // Steady state, the bound changes nothing.
    expect(nextSendAllowedAt(afterSend(null, 0, slow, 0), 0, slow)).toBe(0);
  });
});
