import { planLidMerge } from './lid-merge';

const LID = '111@lid';
const PN = '6281234567890@s.whatsapp.net';
const pair = (lidChat: string | null, pnChat: string | null, lid = LID, pn = PN) => ({ lid, pn, lid_chat: lidChat, pn_chat: pnChat });

describe('planLidMerge', () => {
  it('plans nothing for no rows', () => {
    expect(planLidMerge([])).toEqual({ merges: [], relabel: [] });
  });

  it('relabels a lone LID chat to the phone JID', () => {
    expect(planLidMerge([pair('7', null)])).toEqual({ merges: [], relabel: [{ id: 7, lid: LID, pn: PN }] });
  });

  it('relabels a lone phone chat (to record its LID as the alternate)', () => {
    expect(planLidMerge([pair(null, '9')])).toEqual({ merges: [], relabel: [{ id: 9, lid: LID, pn: PN }] });
  });

  it('merges two chats of one person into the older one, which is then relabelled', () => {
    expect(planLidMerge([pair('12', '30')])).toEqual({
      merges: [{ keep: 12, drop: 30, keep_is_pn: false }],
      relabel: [{ id: 12, lid: LID, pn: PN }],
    });
    expect(planLidMerge([pair('30', '12')])).toEqual({
      merges: [{ keep: 12, drop: 30, keep_is_pn: true }],
      relabel: [{ id: 12, lid: LID, pn: PN }],
    });
  });

  it('keeps ids beyond 32 bits exact and plans each pair on its own', () => {
    const plan = planLidMerge([pair('4294967297', '4294967296'), pair(null, '5', '222@lid', '15550001@s.whatsapp.net')]);
    expect(plan.merges).toEqual([{ keep: 4294967296, drop: 4294967297, keep_is_pn: true }]);
    expect(plan.relabel).toEqual([
      { id: 4294967296, lid: LID, pn: PN },
      { id: 5, lid: '222@lid', pn: '15550001@s.whatsapp.net' },
    ]);
  });

  it('skips a pair with no chat under either JID', () => {
    expect(planLidMerge([pair(null, null)])).toEqual({ merges: [], relabel: [] });
  });
});
