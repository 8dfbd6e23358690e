import { Batching, Settled } from './batching';

/** A write whose batches the test lets finish one at a time. */
function heldWrite() {
  const batches: number[][] = [];
  const finish: (() => void)[] = [];
  const write = (items: number[]) => {
    batches.push(items);
    return new Promise<Settled<string>[]>((resolve) => {
      finish.push(() => resolve(items.map((item) => (item < 0 ? { ok: false, error: new Error(`bad ${item}`) } : { ok: true, value: `done ${item}` }))));
    });
  };
  return { batches, finish, write };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Batching', () => {
  it('writes a lone item at once, and the items submitted meanwhile together in the next batch, in order', async () => {
    const { batches, finish, write } = heldWrite();
    const group = new Batching(write, 10);
    const first = group.submit(1);
    await turn();
    expect(batches).toEqual([[1]]);
    const rest = [group.submit(2), group.submit(3), group.submit(4)];
    expect(group.waiting).toBe(3);
    finish[0]();
    await expect(first).resolves.toBe('done 1');
    await turn();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    expect(group.waiting).toBe(0);
    finish[1]();
    await expect(Promise.all(rest)).resolves.toEqual(['done 2', 'done 3', 'done 4']);
  });

  it('settles each item on its own: one error is that item answer only', async () => {
    const { finish, write } = heldWrite();
    const group = new Batching(write, 10);
    const answers = [group.submit(5), group.submit(-1), group.submit(6)];
    await turn();
    finish[0]();
    await expect(answers[0]).resolves.toBe('done 5');
    await expect(answers[1]).rejects.toThrow('bad -1');
    await expect(answers[2]).resolves.toBe('done 6');
  });

  it('splits what waits into batches of at most maxBatch, and answers every item of a batch whose write throws with its error', async () => {
    const batches: number[][] = [];
    const group = new Batching<number, number>((items) => {
      batches.push(items);
      return items.includes(3) ? Promise.reject(new Error('lost')) : Promise.resolve(items.map((value) => ({ ok: true, value })));
    }, 2);
    const answers = [1, 2, 3, 4, 5].map((item) => group.submit(item));
    await expect(answers[0]).resolves.toBe(1);
    await expect(answers[2]).rejects.toThrow('lost');
    await expect(answers[3]).rejects.toThrow('lost');
    await expect(answers[4]).resolves.toBe(5);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });
});
