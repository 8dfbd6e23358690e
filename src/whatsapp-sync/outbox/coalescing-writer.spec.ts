import { CoalescingWriter } from './coalescing-writer';

/** A write the test finishes by hand, recording each batch. */
function manualWrites() {
  const batches: string[][] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const writer = new CoalescingWriter(
    (ids) =>
      new Promise<void>((resolve, reject) => {
        batches.push(ids);
        pending.push({ resolve, reject });
      }),
  );
  return { writer, batches, pending };
}

describe('CoalescingWriter', () => {
  it('writes the first id at once and the ids added meanwhile together, in order', async () => {
    const { writer, batches, pending } = manualWrites();
    const first = writer.add('1');
    const second = writer.add('2');
    const third = writer.add('3');
    expect(batches).toEqual([['1']]);
    pending[0].resolve();
    await first;
    expect(batches).toEqual([['1'], ['2', '3']]);
    pending[1].resolve();
    await Promise.all([second, third]);
    await writer.settled();
    void writer.add('4');
    expect(batches).toEqual([['1'], ['2', '3'], ['4']]);
  });

  it('fails the ids of a failed write, the ids waiting behind it and every later add', async () => {
    const { writer, pending } = manualWrites();
    const first = writer.add('1');
    const second = writer.add('2');
    pending[0].reject(new Error('lease lost'));
    await expect(first).rejects.toThrow('lease lost');
    await expect(second).rejects.toThrow('lease lost');
    await expect(writer.add('3')).rejects.toThrow('lease lost');
    await expect(writer.settled()).rejects.toThrow('lease lost');
  });

  it('is settled at once when nothing was added', async () => {
    await expect(new CoalescingWriter(() => Promise.resolve()).settled()).resolves.toBeUndefined();
  });
});
