import { packTransactions, planUnits } from './chat-sync.service';
import type { SyncOp } from './sync-ops';

const chat = (jid: string): SyncOp => ({ kind: 'chat', jid, type: 'dm', create: true });
const link: SyncOp = { kind: 'link', lid: '1@lid', pn: '1@s.whatsapp.net' };

describe('planning a batch', () => {
  it('groups consecutive ops of one kind, cut at the chunk size, keeping their order', () => {
    const ops = [link, chat('a'), chat('b'), chat('c'), link, chat('d')];
    expect(planUnits(ops, 2).map((unit) => [unit.kind, unit.ops.length])).toEqual([
      ['link', 1],
      ['chat', 2],
      ['chat', 1],
      ['link', 1],
      ['chat', 1],
    ]);
  });

  it('packs units into transactions of at most the chunk size, and always at least one', () => {
    expect(packTransactions([], 10)).toEqual([[]]);
    const units = planUnits([link, ...'abcdefg'.split('').map(chat)], 3);
    expect(packTransactions(units, 3).map((tx) => tx.map((unit) => unit.ops.length))).toEqual([[1], [3], [3], [1]]);
    expect(packTransactions(planUnits([link, chat('a')], 100), 100).length).toBe(1);
  });
});
