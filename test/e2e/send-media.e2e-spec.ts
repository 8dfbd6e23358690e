import { randomBytes } from 'node:crypto';
import type { Capability } from '../../src/common/capabilities';
import { STAGING_CHUNK_BYTES } from '../../src/messages/sending/media-staging';
import { SeamGateway } from '../support/seam-gateway';
import { TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
const BOB = '+14155550102';
const BOB_JID = '14155550102@s.whatsapp.net';
const IMAGE_LIMIT = 4096;

/**
 * Send message with a file (multipart/form-data) over HTTP and PostgreSQL, the WhatsApp side at
 * the engine seam: the file is staged in the database as it streams in, stored as a pending media
 * message at once, handed to Baileys' sendMessage as a stream of the staged bytes, and the staged
 * bytes are deleted once sent or failed. Limits: size and content type per kind, one file.
 * (test/e2e/whatsapp-simulator-send.e2e-spec.ts sends media through the real socket.)
 */
describe('Send media', () => {
  let gateway: SeamGateway;
  let app: TestApp;

  beforeAll(async () => {
    gateway = await SeamGateway.start({
      SESSION_CAPACITY: '50',
      SEND_RATE_PER_MINUTE: '600',
      SEND_BURST: '20',
      SEND_JITTER_MS: '0',
      SEND_EXPIRY_MS: '3000',
      SEND_POLL_MS: '50',
      MEDIA_IMAGE_MAX_BYTES: String(IMAGE_LIMIT),
    });
    app = gateway.app;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  /** A form in the order given: [name, value] for a text field, [name, bytes, content type, file name] for a file part. */
  type Part = [string, string] | [string, Buffer, string, string?];
  function form(parts: Part[]): FormData {
    const data = new FormData();
    for (const [name, value, type, fileName] of parts) {
      if (typeof value === 'string') data.append(name, value);
      else data.append(name, new Blob([value], { type }), fileName ?? 'file.bin');
    }
    return data;
  }
  const post = (tenant: Tenant, body: FormData | Buffer, headers: Record<string, string> = {}) =>
    app.request(`/api/v1/sessions/${tenant.sessionId}/messages`, { token: tenant.apiKey, method: 'POST', headers, body });
  const stagedOf = (messageId: number) =>
    app.dataSource.query<{ seq: number; data: Buffer }[]>(
      `SELECT c.seq, c.data FROM media_staging s JOIN message_outbox o ON o.id = s.outbox_id JOIN media_staging_chunks c ON c.staging_id = s.id
       WHERE o.message_id = $1 ORDER BY c.seq`,
      [messageId],
    );
  const messagesOf = async (tenant: Tenant) =>
    (await app.dataSource.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM messages WHERE session_id = $1`, [tenant.sessionId]))[0].n;

  const connected = () => gateway.connected();

  it('a document is staged in chunks as it streams, stored pending with its media metadata, in List messages at once', async () => {
    const tenant = await app.createTenant(ALL);
    const file = randomBytes(STAGING_CHUNK_BYTES * 2 + 1234);
    const accepted = await post(
      tenant,
      form([
        ['to', BOB],
        ['type', 'document'],
        ['caption', 'the contract'],
        ['media', file, 'application/pdf', 'contract.pdf'],
      ]),
    );
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({
      type: 'document',
      text: 'the contract',
      status: 'pending',
      key: { remoteJid: BOB_JID, fromMe: true },
      media: { mimetype: 'application/pdf', size: file.length, fileName: 'contract.pdf', width: null, height: null, duration: null },
      queue: { position: 0 },
    });
    const list = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${accepted.body.chatId}/messages`, { token: tenant.apiKey });
    expect(list.body.data).toEqual([{ ...accepted.body, queue: { position: 0, expectedSendAt: expect.any(Number) } }]);
    // Staged in the database, in chunks of STAGING_CHUNK_BYTES: the bytes exactly.
    const chunks = await stagedOf(accepted.body.id);
    expect(chunks.map((chunk) => chunk.seq)).toEqual([0, 1, 2]);
    expect(chunks.map((chunk) => chunk.data.length)).toEqual([STAGING_CHUNK_BYTES, STAGING_CHUNK_BYTES, 1234]);
    expect(Buffer.concat(chunks.map((chunk) => chunk.data)).equals(file)).toBe(true);
  });

  it('the file is staged as it arrives: its first chunks are in the database while the request is still being sent', async () => {
    const tenant = await app.createTenant(ALL);
    const boundary = 'streamed-boundary';
    const field = (name: string, value: string) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const head = Buffer.from(
      `${field('to', BOB)}${field('type', 'document')}--${boundary}\r\ncontent-disposition: form-data; name="media"; filename="big.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`,
    );
    const first = randomBytes(STAGING_CHUNK_BYTES * 2);
    const rest = randomBytes(1000);
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(head);
        controller.enqueue(first);
        await finished;
        controller.enqueue(rest);
        controller.enqueue(Buffer.from(`\r\n--${boundary}--\r\n`));
        controller.close();
      },
    });
    const response = fetch(`${app.baseUrl}/api/v1/sessions/${tenant.sessionId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    });
    const stagedSoFar = async () =>
      (
        await app.dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM media_staging s JOIN media_staging_chunks c ON c.staging_id = s.id WHERE s.session_id = $1`,
          [tenant.sessionId],
        )
      )[0].n;
    // The request has not ended (the rest waits for `finish`), and a chunk is stored already.
    await waitFor(async () => (await stagedSoFar()) >= 1);
    finish();
    const answer = await response;
    expect(answer.status).toBe(202);
    const accepted = (await answer.json()) as { id: number; media: { size: number } };
    expect(accepted.media.size).toBe(first.length + rest.length);
    const chunks = await stagedOf(accepted.id);
    expect(Buffer.concat(chunks.map((chunk) => chunk.data)).equals(Buffer.concat([first, rest]))).toBe(true);
  });

  it('sent by the holder through Baileys with the staged bytes as a stream; the staged bytes are deleted once sent', async () => {
    const { tenant, socket } = await connected();
    const image = randomBytes(3000);
    const accepted = await post(
      tenant,
      form([
        ['to', BOB],
        ['type', 'image'],
        ['caption', 'the view'],
        ['media', image, 'image/png', 'view.png'],
      ]),
    );
    expect(accepted.status).toBe(202);
    const sent = await waitFor(() => socket.sent.find((entry) => entry.options.messageId === accepted.body.key.id));
    expect(sent.jid).toBe(BOB_JID);
    expect(sent.content).toMatchObject({ image: { stream: expect.anything() }, mimetype: 'image/png', caption: 'the view' });
    expect(sent.media!.equals(image)).toBe(true);
    await waitFor(async () => (await stagedOf(accepted.body.id)).length === 0);
    const outbox = await app.dataSource.query(`SELECT state FROM message_outbox WHERE message_id = $1`, [accepted.body.id]);
    expect(outbox).toEqual([{ state: 'sent' }]);

    // A voice note and a sticker: Baileys' push-to-talk audio and sticker content.
    const voice = await post(
      tenant,
      form([
        ['to', BOB],
        ['type', 'voice'],
        ['media', randomBytes(500), 'audio/ogg', 'note.ogg'],
      ]),
    );
    const sticker = await post(
      tenant,
      form([
        ['to', BOB],
        ['type', 'sticker'],
        ['media', randomBytes(500), 'image/webp', 's.webp'],
      ]),
    );
    expect([voice.status, sticker.status]).toEqual([202, 202]);
    expect(voice.body.type).toBe('voice');
    const sentVoice = await waitFor(() => socket.sent.find((entry) => entry.options.messageId === voice.body.key.id));
    expect(sentVoice.content).toMatchObject({ audio: { stream: expect.anything() }, ptt: true, mimetype: 'audio/ogg; codecs=opus' });
    const sentSticker = await waitFor(() => socket.sent.find((entry) => entry.options.messageId === sticker.body.key.id));
    expect(sentSticker.content).toMatchObject({ sticker: { stream: expect.anything() }, mimetype: 'image/webp' });
  });

  it('a message that fails (not connected before it expired) has its staged bytes deleted', async () => {
    const tenant = await app.createTenant(ALL);
    const accepted = await post(
      tenant,
      form([
        ['to', BOB],
        ['type', 'image'],
        ['media', randomBytes(100), 'image/jpeg', 'a.jpg'],
      ]),
    );
    expect(accepted.status).toBe(202);
    expect(await stagedOf(accepted.body.id)).toHaveLength(1);
    await waitFor(
      async () => (await app.request(`/api/v1/sessions/${tenant.sessionId}/messages/${accepted.body.id}`, { token: tenant.apiKey })).body.status === 'failed',
    );
    expect(await stagedOf(accepted.body.id)).toHaveLength(0);
  });

  describe('limits: every refusal is an error envelope, nothing stored, nothing left staged', () => {
    let tenant: Tenant;
    beforeAll(async () => {
      tenant = await app.createTenant(ALL);
    });
    afterEach(async () => {
      expect(await messagesOf(tenant)).toBe(0);
      const left = await app.dataSource.query(`SELECT count(*)::int AS n FROM media_staging WHERE session_id = $1`, [tenant.sessionId]);
      expect(left).toEqual([{ n: 0 }]);
    });

    it('a file over its kind limit: 413 payload_too_large with the limit', async () => {
      const response = await post(
        tenant,
        form([
          ['to', BOB],
          ['type', 'image'],
          ['media', randomBytes(IMAGE_LIMIT + 1), 'image/jpeg', 'big.jpg'],
        ]),
      );
      expect(response.status).toBe(413);
      expect(response.body.error).toMatchObject({ code: 'payload_too_large', details: { parameter: 'media', type: 'image', limit: IMAGE_LIMIT } });
      expect(response.headers.get('connection')).toBe('close');
    });

    it('a content type its kind does not take: 415 unsupported_media_type naming the allowed ones', async () => {
      const response = await post(
        tenant,
        form([
          ['to', BOB],
          ['type', 'image'],
          ['media', randomBytes(10), 'image/gif', 'a.gif'],
        ]),
      );
      expect(response.status).toBe(415);
      expect(response.body.error).toMatchObject({
        code: 'unsupported_media_type',
        details: { parameter: 'media', type: 'image', mimetype: 'image/gif', allowed: ['image/jpeg', 'image/png'] },
      });
      const sticker = await post(
        tenant,
        form([
          ['to', BOB],
          ['type', 'sticker'],
          ['media', randomBytes(10), 'image/png', 'a.png'],
        ]),
      );
      expect(sticker.status).toBe(415);
    });

    it('no file, two files, a file before its type, an unknown kind or field, a caption on audio: 400 invalid_argument naming the parameter', async () => {
      const cases: [Part[], string][] = [
        [
          [
            ['to', BOB],
            ['type', 'image'],
          ],
          'media',
        ],
        [
          [
            ['to', BOB],
            ['type', 'image'],
            ['media', randomBytes(10), 'image/png', 'a.png'],
            ['media', randomBytes(10), 'image/png', 'b.png'],
          ],
          'media',
        ],
        [
          [
            ['to', BOB],
            ['media', randomBytes(10), 'image/png', 'a.png'],
            ['type', 'image'],
          ],
          'type',
        ],
        [
          [
            ['to', BOB],
            ['type', 'gif'],
            ['media', randomBytes(10), 'image/gif', 'a.gif'],
          ],
          'type',
        ],
        [
          [
            ['to', BOB],
            ['type', 'image'],
            ['colour', 'red'],
            ['media', randomBytes(10), 'image/png', 'a.png'],
          ],
          'colour',
        ],
        [
          [
            ['to', BOB],
            ['type', 'audio'],
            ['caption', 'hi'],
            ['media', randomBytes(10), 'audio/mpeg', 'a.mp3'],
          ],
          'caption',
        ],
        [
          [
            ['to', 'nobody'],
            ['type', 'image'],
            ['media', randomBytes(10), 'image/png', 'a.png'],
          ],
          'to',
        ],
        [
          [
            ['to', BOB],
            ['type', 'image'],
            ['media', Buffer.alloc(0), 'image/png', 'a.png'],
          ],
          'media',
        ],
      ];
      for (const [parts, parameter] of cases) {
        const response = await post(tenant, form(parts));
        expect({ parameter, status: response.status, body: response.body }).toMatchObject({
          parameter,
          status: 400,
          body: { error: { code: 'invalid_argument', details: { parameter } } },
        });
      }
    });

    it('a malformed or truncated multipart body: 400', async () => {
      const truncated = Buffer.from('--XYZ\r\ncontent-disposition: form-data; name="to"\r\n\r\n+14155550102\r\n--XYZ\r\ncontent-disp');
      const response = await post(tenant, truncated, { 'content-type': 'multipart/form-data; boundary=XYZ' });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('invalid_argument');
      const noBoundary = await post(tenant, Buffer.from('x'), { 'content-type': 'multipart/form-data' });
      expect(noBoundary.status).toBe(400);
      expect(noBoundary.body.error.code).toBe('invalid_argument');
    });

    it('a read caller gets 403 and another org gets the same 404 as an unknown session, before the body is read', async () => {
      const reader = await app.createTenant(['read']);
      const denied = await post(
        reader,
        form([
          ['to', BOB],
          ['type', 'image'],
          ['media', randomBytes(10), 'image/png', 'a.png'],
        ]),
      );
      expect(denied.status).toBe(403);
      const other = await app.createTenant(ALL);
      const parts: Part[] = [
        ['to', BOB],
        ['type', 'image'],
        ['media', randomBytes(10), 'image/png', 'a.png'],
      ];
      const foreign = await post({ ...other, sessionId: tenant.sessionId }, form(parts));
      const unknown = await post({ ...other, sessionId: '01J9ZX8K2QHV0M3T6R7P4N5W8C' }, form(parts));
      expect([foreign.status, unknown.status]).toEqual([404, 404]);
      expect(foreign.text).toBe(unknown.text);
    });
  });

  it('Idempotency-Key: the same form and file answer the first answer and store once; another file with the key is 409', async () => {
    const tenant = await app.createTenant(ALL);
    const image = randomBytes(1000);
    const parts = (file: Buffer): Part[] => [
      ['to', BOB],
      ['type', 'image'],
      ['caption', 'once'],
      ['media', file, 'image/png', 'a.png'],
    ];
    const key = { 'idempotency-key': `media-${randomBytes(6).toString('hex')}` };
    const first = await post(tenant, form(parts(image)), key);
    expect(first.status).toBe(202);
    // The same fields in another order, the same bytes under another part file name: the same request.
    const again = await post(
      tenant,
      form([
        ['type', 'image'],
        ['caption', 'once'],
        ['to', BOB],
        ['media', Buffer.from(image), 'image/png', 'renamed.png'],
      ]),
      key,
    );
    expect(again.status).toBe(202);
    expect(again.text).toBe(first.text);
    const flipped = Buffer.from(image);
    flipped[500] ^= 1;
    const other = await post(tenant, form(parts(flipped)), key);
    expect(other.status).toBe(409);
    expect(other.body.error.details).toMatchObject({ reason: 'idempotency_key_reused' });
    expect(await messagesOf(tenant)).toBe(1);
    const left = await app.dataSource.query(`SELECT count(*)::int AS n FROM media_staging WHERE session_id = $1`, [tenant.sessionId]);
    expect(left).toEqual([{ n: 1 }]);
  });
});
