import { SessionQueue } from './session-queue';

const tick = () => new Promise((resolve) => setImmediate(resolve));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('SessionQueue', () => {
  it('runs the tasks of one session one at a time, in submission order, even when earlier ones fail', async () => {
    const queue = new SessionQueue(4);
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const results = gates.map((gate, i) =>
      queue.run('A', async () => {
        log.push(`start ${i}`);
        await gate.promise;
        log.push(`end ${i}`);
        if (i === 1) throw new Error('boom');
        return i;
      }),
    );
    await tick();
    expect(log).toEqual(['start 0']);
    expect(queue.depth('A')).toBe(3);
    gates[2].resolve();
    gates[1].resolve();
    await tick();
    expect(log).toEqual(['start 0']);
    gates[0].resolve();
    await expect(results[0]).resolves.toBe(0);
    await expect(results[1]).rejects.toThrow('boom');
    await expect(results[2]).resolves.toBe(2);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    await queue.drain();
    expect(queue.depth('A')).toBe(0);
    expect(queue.depths()).toEqual({});
  });

  it('runs different sessions in parallel, never more than the limit at once', async () => {
    const queue = new SessionQueue(2);
    let running = 0;
    let peak = 0;
    const gate = deferred();
    const tasks = ['A', 'B', 'C', 'D', 'A', 'B'].map((session) =>
      queue.run(session, async () => {
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
      }),
    );
    await tick();
    expect(running).toBe(2);
    gate.resolve();
    await Promise.all(tasks);
    expect(peak).toBe(2);
  });

  it('drain waits for everything submitted', async () => {
    const queue = new SessionQueue(1);
    const done: number[] = [];
    for (let i = 0; i < 5; i++) void queue.run(`S${i % 2}`, async () => void done.push(i));
    await queue.drain();
    expect(done.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('lends an idle slot to a running task, never one a task waits for, and takes it back once', async () => {
    const queue = new SessionQueue(2);
    const gate = deferred();
    const first = queue.run('A', () => gate.promise);
    await tick();
    const release = queue.borrowIdleSlot();
    expect(release).toBeDefined();
    expect(queue.borrowIdleSlot()).toBeUndefined();
    let started = false;
    const second = queue.run('B', async () => void (started = true));
    await tick();
    expect(started).toBe(false);
    release!();
    release!();
    await second;
    expect(started).toBe(true);
    // B is done and A still runs: one slot is idle again, and only one.
    const again = queue.borrowIdleSlot();
    expect(again).toBeDefined();
    expect(queue.borrowIdleSlot()).toBeUndefined();
    again!();
    gate.resolve();
    await first;
  });
});
