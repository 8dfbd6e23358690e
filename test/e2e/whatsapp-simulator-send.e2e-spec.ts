import { randomBytes } from 'node:crypto';
import type { WhatsAppSimulator } from '../../src/simulator/whatsapp-simulator';
import { api, GatewayClient, listAllChats, SimulatedGateway } from '../support/simulated-whatsapp';
import { waitFor } from '../support/wait-for';

/** A first login generates and stores 812 pre-keys: slow on a loaded machine. */
const TEST_TIMEOUT_MS = 120_000;
const WAIT_MS = 60_000;
const BOB = '14155550102@s.whatsapp.net';
const ALICE = '14155550101@s.whatsapp.net';
const CHARLOTTE = '447700900123@s.whatsapp.net';

/**
 * Send message (issue 17) through the unmodified Baileys socket and the WhatsApp simulator: the
 * gateway asks the simulator for the contact's devices and pre-key bundle, encrypts with Signal,
 * the simulated contact decrypts exactly what was sent under its fixed WhatsApp id, the server
 * acks it, and the contact's receipts move the message's status.
 */
describe('sending through the WhatsApp simulator', () => {
  let world: SimulatedGateway;
  let simulator: WhatsAppSimulator;
  let gateway: GatewayClient;
  const undecryptable: unknown[] = [];

  beforeAll(async () => {
    world = await SimulatedGateway.start({ SEND_POLL_MS: '50', SEND_RATE_PER_MINUTE: '600', SEND_BURST: '20', SEND_JITTER_MS: '0' }, 15550000300);
    ({ simulator, gateway } = world);
    simulator.on('undecryptable', (failure) => undecryptable.push(failure));
  });
  afterAll(async () => {
    await world?.stop();
  });
  afterEach(() => expect(undecryptable).toEqual([]));

  const linkedPhone = () => world.linkedPhone();
  const send = (sessionId: string, body: Record<string, unknown>) => api(gateway, `/sessions/${sessionId}/messages`, { method: 'POST', body });
  /** A multipart send: text fields, then the file part `media`. */
  const sendFile = async (sessionId: string, fields: Record<string, string>, file: Buffer, type: string, fileName: string) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('media', new Blob([file], { type }), fileName);
    const response = await fetch(`${gateway.baseUrl}/api/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.token}` },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const statusOf = async (sessionId: string, id: number) => (await api(gateway, `/sessions/${sessionId}/messages/${id}`)).body.status as string;
  const waitForMessageStatus = (sessionId: string, id: number, status: string) => waitFor(async () => (await statusOf(sessionId, id)) === status, WAIT_MS);
  const receivedBy = (phone: string, contact: string, count: number) =>
    waitFor(() => (simulator.received(phone, contact).length >= count ? simulator.received(phone, contact) : undefined), WAIT_MS);

  it(
    'a text to a contact who never wrote: device list and pre-key bundle asked, a pkmsg the contact decrypts under the fixed id; pending until the server ack, then sent, delivered, read',
    async () => {
      const { phone, sessionId, device } = await linkedPhone();
      simulator.holdAcks(phone, BOB);
      const accepted = await send(sessionId, { to: '+14155550102', text: 'Hello Bob, from the gateway' });
      expect(accepted.status).toBe(202);
      const waId = accepted.body.key.id as string;

      const [received, ...more] = await receivedBy(phone, BOB, 1);
      expect(more).toEqual([]);
      expect(received).toMatchObject({
        id: waId,
        chat: BOB,
        fromDevice: device,
        stanzaType: 'text',
        // The gateway had no Signal session with Bob: it opened one from the bundle the simulator handed out.
        encryption: 'pkmsg',
        text: 'Hello Bob, from the gateway',
        // The account's own phone got its copy (deviceSentMessage) of the same message.
        phoneCopy: true,
      });

      // Handed to WhatsApp, but no server ack yet: still pending. The ack makes it sent; then Bob's phone reports it delivered, then read.
      expect(await statusOf(sessionId, accepted.body.id)).toBe('pending');
      expect(await simulator.releaseAcks(phone, BOB)).toBe(1);
      await waitForMessageStatus(sessionId, accepted.body.id, 'sent');
      expect(simulator.sendReceipt(phone, BOB, [waId], 'delivery')).toBe(1);
      await waitForMessageStatus(sessionId, accepted.body.id, 'delivered');
      simulator.sendReceipt(phone, BOB, [waId], 'read');
      await waitForMessageStatus(sessionId, accepted.body.id, 'read');
      expect(simulator.received(phone, BOB)).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a conversation: a location and a reply quoting the contact, each decrypted by her; once she answered, the session goes on with msg; one read receipt for both',
    async () => {
      const { phone, sessionId } = await linkedPhone();
      const writtenAt = Math.floor(Date.now() / 1000) + 1;
      const question = await simulator.sendMessage({ to: phone, from: ALICE, text: 'Where are you?', pushName: 'Alice', timestamp: writtenAt });
      const chatId = await waitFor(
        async () => (await listAllChats(gateway, sessionId)).find((chat) => chat.jid === ALICE && chat.lastMessageAt === writtenAt * 1000)?.id,
        WAIT_MS,
      );
      const stored = await waitFor(async () => {
        const page = await api(gateway, `/sessions/${sessionId}/chats/${chatId}/messages`);
        return (page.body.data as any[]).find((message) => message.key.id === question);
      }, WAIT_MS);

      const location = await send(sessionId, { to: ALICE, location: { latitude: -6.175392, longitude: 106.827153, name: 'Monas' } });
      expect(location.status).toBe(202);
      const [pin] = await receivedBy(phone, ALICE, 1);
      expect(pin).toMatchObject({ id: location.body.key.id, chat: ALICE, stanzaType: 'text', text: null, phoneCopy: true });
      expect(pin.message).toMatchObject({ locationMessage: { degreesLatitude: -6.175392, degreesLongitude: 106.827153, name: 'Monas' } });

      // She answers in the session the gateway's pkmsg opened: the gateway's next message is a plain msg.
      // Waited for by its id: the chat's lastMessageAt may be the location's (stamped when sent, which
      // on a loaded machine comes seconds after writtenAt), later than the answer's own time.
      const answer = await simulator.sendMessage({ to: phone, from: ALICE, text: 'Thanks, see you there', timestamp: writtenAt + 1 });
      await waitFor(async () => {
        const page = await api(gateway, `/sessions/${sessionId}/chats/${chatId}/messages`);
        return (page.body.data as any[]).some((message) => message.key.id === answer);
      }, WAIT_MS);
      const reply = await send(sessionId, { to: String(chatId), text: 'On my way', replyTo: String(stored.id) });
      expect(reply.status).toBe(202);
      const received = await receivedBy(phone, ALICE, 2);
      expect(received.map((message) => message.id)).toEqual([location.body.key.id, reply.body.key.id]);
      expect(received[1]).toMatchObject({ encryption: 'msg', text: 'On my way', phoneCopy: true });
      expect(received[1].message).toMatchObject({
        extendedTextMessage: { text: 'On my way', contextInfo: { stanzaId: question, participant: ALICE, quotedMessage: { conversation: 'Where are you?' } } },
      });

      await waitForMessageStatus(sessionId, location.body.id, 'sent');
      await waitForMessageStatus(sessionId, reply.body.id, 'sent');
      simulator.sendReceipt(phone, ALICE, [location.body.key.id, reply.body.key.id], 'read');
      await waitForMessageStatus(sessionId, location.body.id, 'read');
      await waitForMessageStatus(sessionId, reply.body.id, 'read');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'to a group: each member the simulator plays, and the phone, decrypts the skmsg under the sender key the gateway distributed; two in a row, read by a member',
    async () => {
      const { phone, sessionId } = await linkedPhone();
      const group = await simulator.createGroup(phone, { subject: 'Launch plan', creator: ALICE });
      await simulator.sendMessage({ to: phone, from: CHARLOTTE, group, text: 'count me in', pushName: 'Charlotte' });
      await waitFor(async () => (await listAllChats(gateway, sessionId)).find((chat) => chat.jid === group && chat.unreadCount === 1), WAIT_MS);

      const first = await send(sessionId, { to: group, text: 'Launch at 9' });
      expect(first.status).toBe(202);
      const second = await send(sessionId, { to: group, text: 'Bring coffee' });
      expect(second.status).toBe(202);
      for (const member of [ALICE, CHARLOTTE]) {
        const received = await receivedBy(phone, member, 2);
        expect(received.map(({ id, chat, encryption, text, phoneCopy }) => ({ id, chat, encryption, text, phoneCopy }))).toEqual([
          { id: first.body.key.id, chat: group, encryption: 'skmsg', text: 'Launch at 9', phoneCopy: true },
          { id: second.body.key.id, chat: group, encryption: 'skmsg', text: 'Bring coffee', phoneCopy: true },
        ]);
      }
      await waitForMessageStatus(sessionId, second.body.id, 'sent');
      // A member's read receipt comes from the group, naming her as participant.
      simulator.sendReceipt(phone, CHARLOTTE, [first.body.key.id, second.body.key.id], 'read');
      await waitForMessageStatus(sessionId, first.body.id, 'read');
      await waitForMessageStatus(sessionId, second.body.id, 'read');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "media: an image with a caption and a document, uploaded by Baileys to the simulator's media host (media_conn), decrypted by the contact, whose download gives exactly the bytes sent; the staged copy is gone once sent",
    async () => {
      const { phone, sessionId } = await linkedPhone();
      const image = randomBytes(70_000);
      const document = randomBytes(600_000);
      const sentImage = await sendFile(sessionId, { to: '+14155550102', type: 'image', caption: 'The view from here' }, image, 'image/jpeg', 'view.jpg');
      expect(sentImage.status).toBe(202);
      expect(sentImage.body).toMatchObject({
        type: 'image',
        text: 'The view from here',
        status: 'pending',
        media: { mimetype: 'image/jpeg', size: image.length },
      });
      const sentDocument = await sendFile(sessionId, { to: '+14155550102', type: 'document', fileName: 'report.pdf' }, document, 'application/pdf', 'x.bin');
      expect(sentDocument.status).toBe(202);

      const received = await receivedBy(phone, BOB, 2);
      expect(received.map(({ id, stanzaType, phoneCopy }) => ({ id, stanzaType, phoneCopy }))).toEqual([
        { id: sentImage.body.key.id, stanzaType: 'media', phoneCopy: true },
        { id: sentDocument.body.key.id, stanzaType: 'media', phoneCopy: true },
      ]);
      expect(received[0].message).toMatchObject({ imageMessage: { caption: 'The view from here', mimetype: 'image/jpeg', fileLength: image.length } });
      expect(received[1].message).toMatchObject({ documentMessage: { fileName: 'report.pdf', mimetype: 'application/pdf', fileLength: document.length } });
      // Uploaded (encrypted) to the simulator's media host; the contact downloads and decrypts exactly the bytes sent.
      expect(simulator.media.uploads.map((upload) => upload.type)).toEqual(expect.arrayContaining(['image', 'document']));
      const gotImage = await simulator.downloadMedia(phone, BOB, sentImage.body.key.id);
      expect(gotImage.type).toBe('image');
      expect(gotImage.bytes.equals(image)).toBe(true);
      const gotDocument = await simulator.downloadMedia(phone, BOB, sentDocument.body.key.id);
      expect(gotDocument.bytes.equals(document)).toBe(true);

      await waitForMessageStatus(sessionId, sentDocument.body.id, 'sent');
      const stored = await api(gateway, `/sessions/${sessionId}/messages/${sentDocument.body.id}`);
      expect(stored.body.media).toMatchObject({ mimetype: 'application/pdf', size: document.length, fileName: 'report.pdf' });
      // WhatsApp's echo of the sent message (Baileys emits it once sent) merges into the stored one: where the media host keeps the file, and its key.
      const uploaded = simulator.media.uploads.map((upload) => upload.directPath);
      const row = await waitFor(async () => {
        const [found] = await world.app.dataSource.query(`SELECT media->>'directPath' AS path, media_key IS NOT NULL AS keyed FROM messages WHERE id = $1`, [
          sentDocument.body.id,
        ]);
        return found.path !== null ? found : undefined;
      }, WAIT_MS);
      expect(uploaded).toContain(row.path);
      expect(row.keyed).toBe(true);
      await waitFor(
        async () => (await world.app.dataSource.query(`SELECT count(*)::int AS n FROM media_staging WHERE session_id = $1`, [sessionId]))[0].n === 0,
        WAIT_MS,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the server refuses a send (its ack carries error 479): the message is failed with its reason and the contact receives nothing',
    async () => {
      const { phone, sessionId } = await linkedPhone();
      simulator.refuseMessagesTo(phone, BOB, 479);
      const accepted = await send(sessionId, { to: BOB, text: 'This one bounces' });
      expect(accepted.status).toBe(202);
      await waitForMessageStatus(sessionId, accepted.body.id, 'failed');
      const failed = await api(gateway, `/sessions/${sessionId}/messages/${accepted.body.id}`);
      expect(failed.body.failureReason).toMatch(/^WhatsApp refused the message \(an error acknowledgement\)/);
      expect(simulator.received(phone, BOB)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a reaction and an edit change the stored message on WhatsApp's ack, not before; an edit the server refuses is a failed write and the text stays",
    async () => {
      const { phone, sessionId } = await linkedPhone();
      const accepted = await send(sessionId, { to: BOB, text: 'React to this' });
      await receivedBy(phone, BOB, 1);
      await waitForMessageStatus(sessionId, accepted.body.id, 'sent');
      const message = async () => (await api(gateway, `/sessions/${sessionId}/messages/${accepted.body.id}`)).body;
      const write = async (id: number) => (await api(gateway, `/sessions/${sessionId}/writes/${id}`)).body;

      simulator.holdAcks(phone, BOB);
      const reaction = await api(gateway, `/sessions/${sessionId}/messages/${accepted.body.id}/reactions`, { method: 'POST', body: { emoji: '❤️' } });
      expect([reaction.status, reaction.body.status]).toEqual([202, 'pending']);
      // Bob decrypts the reaction to the message's id; the server holds its ack: the write is pending, the stored message has no reaction.
      const [, received] = await receivedBy(phone, BOB, 2);
      expect(received.message).toMatchObject({ reactionMessage: { text: '❤️', key: { id: accepted.body.key.id, fromMe: true } } });
      await waitFor(async () => (await write(reaction.body.id)).queue === null, WAIT_MS);
      // Baileys emits its own sent reaction as an event ~100 ms after sending it (its event buffer's
      // flush). A message Bob sends now reaches the sync behind it: once that message is stored,
      // the echo has been handled, and still the stored message has no reaction.
      const answer = await simulator.sendMessage({ to: phone, from: BOB, text: 'Seen it' });
      await waitFor(async () => {
        const chat = (await listAllChats(gateway, sessionId)).find((each) => each.jid === BOB);
        const page = chat ? await api(gateway, `/sessions/${sessionId}/chats/${chat.id}/messages`) : undefined;
        return (page?.body.data as any[] | undefined)?.some((each) => each.key.id === answer);
      }, WAIT_MS);
      expect((await write(reaction.body.id)).status).toBe('pending');
      expect((await message()).reactions).toEqual([]);
      expect(await simulator.releaseAcks(phone, BOB)).toBe(1);
      await waitFor(async () => (await write(reaction.body.id)).status === 'sent', WAIT_MS);
      expect((await message()).reactions).toEqual([{ senderJid: null, fromMe: true, emoji: '❤️', at: expect.any(Number) }]);

      simulator.refuseMessagesTo(phone, BOB, 479);
      const edit = await api(gateway, `/sessions/${sessionId}/messages/${accepted.body.id}`, { method: 'PATCH', body: { text: 'Never seen' } });
      expect(edit.status).toBe(202);
      await waitFor(async () => (await write(edit.body.id)).status === 'failed', WAIT_MS);
      expect((await write(edit.body.id)).failureReason).toMatch(/^WhatsApp refused/);
      expect(await message()).toMatchObject({ text: 'React to this', editedAt: null });
      expect(simulator.received(phone, BOB)).toHaveLength(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a receipt sent while the gateway is away arrives after it logs in again',
    async () => {
      const { phone, sessionId, device } = await linkedPhone();
      const accepted = await send(sessionId, { to: BOB, text: 'Are you there?' });
      const [received] = await receivedBy(phone, BOB, 1);
      expect(received.id).toBe(accepted.body.key.id);
      await waitForMessageStatus(sessionId, accepted.body.id, 'sent');

      expect(simulator.dropConnection(device)).toBe(1);
      simulator.sendReceipt(phone, BOB, [received.id], 'read');
      await waitForMessageStatus(sessionId, accepted.body.id, 'read');
      expect(simulator.devices(phone)).toEqual([expect.objectContaining({ logins: 2, connections: 1, pendingStanzas: 0 })]);
    },
    TEST_TIMEOUT_MS,
  );
});
