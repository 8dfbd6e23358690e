import type { Capability } from '../../src/common/capabilities';
import type { WhatsAppSimulator } from '../../src/simulator/whatsapp-simulator';
import { api, GatewayClient, listAllChats, SimulatedGateway, waitForStatus } from '../support/simulated-whatsapp';
import type { TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
/** A first login generates and stores 812 pre-keys: slow on a loaded machine. */
const TEST_TIMEOUT_MS = 180_000;
const WAIT_MS = 60_000;
const MUTED_FOREVER = 253_402_300_799_000;
/** Sample phone book chats: a group nothing is set on, and a DM read, unpinned, unmuted, unarchived. */
const SUPPORT_TEAM = '120363041234567891@g.us';
const ALICE_ID = '6281234567890@s.whatsapp.net';
const FLEUR = '33612345678@s.whatsapp.net';

/**
 * Changing a chat (issue 17): PATCH /sessions/{session}/chats/{chat} through the session's
 * outbox, written to WhatsApp by the unmodified Baileys socket as app-state patches
 * (chatModify), which the WhatsApp simulator's server checks (version, MACs under the account's
 * app-state key) and takes or refuses; List chats shows a change once WhatsApp took it.
 */
describe('changing a chat: archive, pin, mute, mark unread', () => {
  let world: SimulatedGateway;
  let simulator: WhatsAppSimulator;
  let app: TestApp;
  let gateway: GatewayClient;

  beforeAll(async () => {
    world = await SimulatedGateway.start({ SEND_POLL_MS: '50', SEND_RATE_PER_MINUTE: '600', SEND_BURST: '20', SEND_JITTER_MS: '0' }, 15550000700);
    ({ simulator, app, gateway } = world);
  });
  afterAll(async () => {
    await world?.stop();
  });

  /** A phone with the sample phone book, linked to a new session of the tenant, its history listed. */
  async function linkedPhone() {
    const { phone, sessionId } = await world.linkedPhone();
    await waitFor(async () => (await listAllChats(gateway, sessionId)).some((chat) => chat.jid === FLEUR), WAIT_MS);
    return { phone, sessionId };
  }

  const chatOf = async (sessionId: string, jid: string) => (await listAllChats(gateway, sessionId)).find((chat) => chat.jid === jid);
  const change = (sessionId: string, chatId: number, body: unknown) => api(gateway, `/sessions/${sessionId}/chats/${chatId}`, { method: 'PATCH', body });
  /** Waits until List chats shows the chat with `fields`; returns it. */
  const listedWith = (sessionId: string, jid: string, fields: Record<string, unknown>) =>
    waitFor(async () => {
      const chat = await chatOf(sessionId, jid);
      return chat && Object.entries(fields).every(([key, value]) => chat[key] === value) ? chat : undefined;
    }, WAIT_MS);
  const outboxRows = (sessionId: string): Promise<{ action: string; state: string; failure_reason: string | null }[]> =>
    app.dataSource.query(`SELECT action, state, failure_reason FROM message_outbox WHERE session_id = $1 ORDER BY id`, [sessionId]);

  it(
    'archives, pins, mutes (until a time, forever), unmutes, marks unread and read, unpins and unarchives: each taken by WhatsApp and shown by List chats',
    async () => {
      const { phone, sessionId } = await linkedPhone();
      const group = await chatOf(sessionId, SUPPORT_TEAM);
      expect(group).toMatchObject({ archived: false, pinned: false, mutedUntil: null, unreadCount: 5 });

      const archived = await change(sessionId, group.id, { archived: true });
      expect(archived.status).toBe(202);
      expect(archived.body).toEqual({
        id: expect.any(Number),
        action: 'chat',
        chatId: group.id,
        messageId: null,
        status: 'pending',
        failureReason: null,
        queue: { position: expect.any(Number), expectedSendAt: expect.any(Number) },
      });
      await listedWith(sessionId, SUPPORT_TEAM, { archived: true });
      // The phone's server took exactly that change, from this device, as an app-state patch.
      expect(simulator.appStateUploads(phone).map((upload) => upload.changes)).toEqual([[{ action: 'archive', jid: SUPPORT_TEAM, value: true }]]);

      expect((await change(sessionId, group.id, { pinned: true, mutedUntil: MUTED_FOREVER })).status).toBe(202);
      await listedWith(sessionId, SUPPORT_TEAM, { pinned: true, mutedUntil: MUTED_FOREVER, archived: true });
      expect(
        simulator
          .appStateUploads(phone)
          .slice(1)
          .map((upload) => upload.changes),
      ).toEqual([[{ action: 'pin', jid: SUPPORT_TEAM, value: true }], [{ action: 'mute', jid: SUPPORT_TEAM, value: true, muteEndTime: -1 }]]);

      const until = Date.now() + 8 * 3600_000;
      expect((await change(sessionId, group.id, { mutedUntil: until })).status).toBe(202);
      await listedWith(sessionId, SUPPORT_TEAM, { mutedUntil: until });
      expect((await change(sessionId, group.id, { mutedUntil: null })).status).toBe(202);
      await listedWith(sessionId, SUPPORT_TEAM, { mutedUntil: null, pinned: true });

      // Marked unread: List chats counts at least 1; marked read: WhatsApp's read flag, the count is 0.
      const alice = await chatOf(sessionId, ALICE_ID);
      expect(alice).toMatchObject({ unreadCount: 0 });
      expect((await change(sessionId, alice.id, { markedUnread: true })).status).toBe(202);
      await listedWith(sessionId, ALICE_ID, { unreadCount: 1 });
      expect((await change(sessionId, group.id, { markedUnread: false })).status).toBe(202);
      await listedWith(sessionId, SUPPORT_TEAM, { unreadCount: 0 });
      expect((await change(sessionId, alice.id, { markedUnread: false })).status).toBe(202);
      await listedWith(sessionId, ALICE_ID, { unreadCount: 0 });

      expect((await change(sessionId, group.id, { archived: false, pinned: false })).status).toBe(202);
      const settled = await listedWith(sessionId, SUPPORT_TEAM, { archived: false, pinned: false });
      expect(settled).toMatchObject({ mutedUntil: null, unreadCount: 0 });
      const uploads = simulator.appStateUploads(phone).flatMap((upload) => upload.changes);
      expect(uploads.slice(-6)).toEqual([
        { action: 'mute', jid: SUPPORT_TEAM, value: false },
        { action: 'markRead', jid: ALICE_ID, value: false },
        { action: 'markRead', jid: SUPPORT_TEAM, value: true },
        { action: 'markRead', jid: ALICE_ID, value: true },
        { action: 'archive', jid: SUPPORT_TEAM, value: false },
        { action: 'pin', jid: SUPPORT_TEAM, value: false },
      ]);
      expect(await outboxRows(sessionId)).toEqual(Array.from({ length: 8 }, () => ({ action: 'chat', state: 'sent', failure_reason: null })));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a change WhatsApp refuses (its collection answered type="error"): the write fails with the reason and WhatsApp code, List chats keeps the chat as it was; accepted again once the server takes patches',
    async () => {
      const { phone, sessionId } = await linkedPhone();
      const fleur = await chatOf(sessionId, FLEUR);
      expect(fleur).toMatchObject({ archived: false, pinned: false });
      simulator.refuseAppStatePatches(phone, 405);
      const refusedChange = await change(sessionId, fleur.id, { archived: true, pinned: true });
      expect(refusedChange.status).toBe(202);
      const [refused] = await waitFor(async () => {
        const rows = await outboxRows(sessionId);
        return rows[0]?.state === 'failed' ? rows : undefined;
      }, WAIT_MS);
      expect(refused.failure_reason).toBe(
        'WhatsApp refused the chat change (an app-state error); the chat keeps its state on WhatsApp, as List chats shows it (WhatsApp error 405)',
      );
      expect(simulator.appStateUploads(phone)).toEqual([]);
      // The client sees it: Get write answers failed with the reason.
      expect((await api(gateway, `/sessions/${sessionId}/writes/${refusedChange.body.id}`)).body).toMatchObject({
        action: 'chat',
        status: 'failed',
        failureReason: refused.failure_reason,
        queue: null,
      });

      // The refused archive was never stored: a change WhatsApp takes afterwards (on the same
      // connection, so Baileys kept the collection's version) is the first one List chats shows.
      simulator.refuseAppStatePatches(phone, undefined);
      const accepted = await change(sessionId, fleur.id, { pinned: true });
      expect(accepted.status).toBe(202);
      await waitFor(async () => (await api(gateway, `/sessions/${sessionId}/writes/${accepted.body.id}`)).body.status === 'sent', WAIT_MS);
      const pinned = await listedWith(sessionId, FLEUR, { pinned: true });
      expect(pinned.archived).toBe(false);
      expect(simulator.appStateUploads(phone).map((upload) => upload.changes)).toEqual([[{ action: 'pin', jid: FLEUR, value: true }]]);
      expect((await outboxRows(sessionId)).map((row) => row.state)).toEqual(['failed', 'sent']);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a session that is not connected keeps the change queued (List chats unchanged) and writes it once connected',
    async () => {
      const { phone, sessionId } = await linkedPhone();
      const fleur = await chatOf(sessionId, FLEUR);
      expect((await api(gateway, `/sessions/${sessionId}/stop`, { method: 'POST' })).status).toBe(200);
      await waitForStatus(gateway, sessionId, 'stopped', WAIT_MS);
      const queued = await change(sessionId, fleur.id, { pinned: true });
      expect([queued.status, queued.body.queue.position]).toEqual([202, 0]);
      expect(await outboxRows(sessionId)).toEqual([{ action: 'chat', state: 'pending', failure_reason: null }]);
      expect((await chatOf(sessionId, FLEUR)).pinned).toBe(false);

      expect((await api(gateway, `/sessions/${sessionId}/start`, { method: 'POST' })).status).toBe(200);
      await listedWith(sessionId, FLEUR, { pinned: true });
      expect(simulator.appStateUploads(phone).map((upload) => upload.changes)).toEqual([[{ action: 'pin', jid: FLEUR, value: true }]]);
    },
    TEST_TIMEOUT_MS,
  );

  it("refuses bad bodies with 400; a read caller gets 403 before any lookup; another org's or another session's chat is the same 404 as an unknown one", async () => {
    const owner = await app.createTenant(ALL);
    const [chatId] = await app.insertChats(owner.sessionId, [{ jid: FLEUR, name: 'Fleur' }]);
    const patch = (token: string, sessionId: string, chat: number | string, body: unknown) =>
      app.request(`/api/v1/sessions/${sessionId}/chats/${chat}`, {
        token,
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });

    const bad: [unknown, string][] = [
      [{}, 'body'],
      ['[]', 'body'],
      [{ archived: 'yes' }, 'archived'],
      [{ pinned: 1 }, 'pinned'],
      [{ markedUnread: null }, 'markedUnread'],
      [{ mutedUntil: 1.5 }, 'mutedUntil'],
      [{ mutedUntil: '1751198400000' }, 'mutedUntil'],
      [{ mutedUntil: Date.now() - 1000 }, 'mutedUntil'],
      [{ mutedUntil: MUTED_FOREVER + 1 }, 'mutedUntil'],
      [{ archived: true, starred: true }, 'starred'],
    ];
    for (const [body, parameter] of bad) {
      const refused = await patch(owner.apiKey, owner.sessionId, chatId, body);
      expect([body, refused.status, refused.body.error.code, refused.body.error.details.parameter]).toEqual([body, 400, 'invalid_argument', parameter]);
    }

    const reader = await app.apiKeys.create(owner.orgId, ['read'], 'reader');
    for (const chat of [chatId, 99999999]) {
      const forbidden = await patch(reader.key, owner.sessionId, chat, { archived: true });
      expect([forbidden.status, forbidden.body.error.code]).toEqual([403, 'forbidden']);
    }

    const other = await app.createTenant(ALL);
    const unknown = await patch(other.apiKey, other.sessionId, 99999999, { archived: true });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
    const foreign = await patch(other.apiKey, owner.sessionId, chatId, { archived: true });
    expect([foreign.status, foreign.text]).toEqual([404, unknown.text]);
    // The owner's other session: the chat is not that session's.
    const second = await app.request(`/api/v1/sessions`, {
      token: owner.apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'second', start: false }),
    });
    expect(second.status).toBe(201);
    for (const [sessionId, chat] of [
      [second.body.id, chatId],
      [owner.sessionId, 'abc'],
      [owner.sessionId, '-1'],
      ['not-a-session', chatId],
    ] as const) {
      const missing = await patch(owner.apiKey, sessionId, chat, { archived: true });
      expect([sessionId, chat, missing.status, missing.text]).toEqual([sessionId, chat, 404, unknown.text]);
    }
    // Nothing was queued by any of them.
    const rows = await app.dataSource.query(`SELECT count(*)::int AS n FROM message_outbox WHERE session_id = ANY($1)`, [
      [owner.sessionId, other.sessionId, second.body.id],
    ]);
    expect(rows).toEqual([{ n: 0 }]);

    const accepted = await patch(owner.apiKey, owner.sessionId, chatId, { archived: true, mutedUntil: null });
    expect([accepted.status, accepted.body.action, accepted.body.chatId, accepted.body.messageId]).toEqual([202, 'chat', chatId, null]);

    // An Idempotency-Key, as on the other writes: the same request answers the first answer and queues nothing more; another body is 409.
    const keyed = (body: unknown) =>
      app.request(`/api/v1/sessions/${owner.sessionId}/chats/${chatId}`, {
        token: owner.apiKey,
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'pin-fleur-1' },
        body: JSON.stringify(body),
      });
    const first = await keyed({ pinned: true, mutedUntil: null });
    const again = await keyed({ mutedUntil: null, pinned: true });
    expect([first.status, again.status, again.text]).toEqual([202, 202, first.text]);
    const reused = await keyed({ pinned: false });
    expect([reused.status, reused.body.error.details.reason]).toEqual([409, 'idempotency_key_reused']);
    const queued = await app.dataSource.query(`SELECT content->'content'->'changes' AS changes FROM message_outbox WHERE session_id = $1 ORDER BY id`, [
      owner.sessionId,
    ]);
    expect(queued).toEqual([{ changes: { archived: true, mutedUntil: null } }, { changes: { pinned: true, mutedUntil: null } }]);
  });
});
