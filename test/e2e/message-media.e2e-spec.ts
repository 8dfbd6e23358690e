import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Capability } from '../../src/common/capabilities';
import { BAILEYS_SOCKET_FACTORY } from '../../src/whatsapp-sync/connection/baileys-socket';
import { MEDIA_DOWNLOAD, MediaDownload } from '../../src/whatsapp-sync/media/whatsapp-media-fetcher';
import { FakeBaileysSocket, FakeSocketFactory } from '../support/fake-baileys-socket';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { openUntilConnected } from '../support/seam-gateway';
import { TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
// Nothing here waits for a lease to expire or a command to time out: with 4 s leases and the default
// 15 s command timeout, a download in a loaded CI run (load 10) got 503, which both of those give
// (a holder that lapsed: 'moving'; one that answered late: 'holder_silent'). Bounds a starved holder meets.
const REPLICA_ENV = {
  SESSION_LEASE_TTL_MS: '20000',
  SESSION_LEASE_RENEW_INTERVAL_MS: '1000',
  SESSION_TAKEOVER_JITTER_MS: '50',
  SESSION_COMMAND_POLL_MS: '50',
  SESSION_COMMAND_TIMEOUT_MS: '60000',
};
const ANN = '15557770021@s.whatsapp.net';

/**
 * WhatsApp's media servers, as the fetcher's download seam sees them: a file is served from the
 * path the phone uploaded it to; an expired path answers 410 like WhatsApp's CDN (a Boom error).
 */
class MediaServers {
  readonly files = new Map<string, Buffer>();
  readonly requests: { directPath?: string; mediaKey: Buffer }[] = [];
  readonly download: MediaDownload = async (media) => {
    this.requests.push(media);
    const file = media.directPath ? this.files.get(media.directPath) : undefined;
    if (!file) throw Object.assign(new Error('Failed to fetch stream'), { output: { statusCode: 410 } });
    // In chunks, as a stream from the network arrives.
    return Readable.from([file.subarray(0, 1000), file.subarray(1000)]);
  };
}

describe("Message media through the session's connection", () => {
  let database: IsolatedDatabase;
  let holder: TestApp;
  let other: TestApp;
  const sockets = new FakeSocketFactory();
  const servers = new MediaServers();

  beforeAll(async () => {
    database = await isolatedDatabase();
    const providers = [
      { provide: BAILEYS_SOCKET_FACTORY, useValue: sockets.factory },
      { provide: MEDIA_DOWNLOAD, useValue: servers.download },
    ];
    holder = await TestApp.start({ ...REPLICA_ENV, SESSION_CAPACITY: '20', DATABASE_URL: database.url, REPLICA_ID: 'media-holder' }, { providers });
    other = await TestApp.start({ ...REPLICA_ENV, SESSION_CAPACITY: '0', DATABASE_URL: database.url, REPLICA_ID: 'media-other' }, { providers });
  });
  afterAll(async () => {
    await other?.close();
    await holder?.close();
    await database?.drop();
  });

  async function connectedWithImage(): Promise<{ tenant: Tenant; socket: FakeBaileysSocket; messageId: number; mediaKey: Buffer }> {
    const tenant = await holder.createTenant(ALL);
    await holder.request(`/api/v1/sessions/${tenant.sessionId}/start`, { token: tenant.apiKey, method: 'POST' });
    const socket = await openUntilConnected(holder, sockets, tenant);
    const mediaKey = randomBytes(32);
    const id = `IMG${randomBytes(4).toString('hex').toUpperCase()}`;
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: ANN, fromMe: false, id },
          messageTimestamp: 1_719_000_000,
          message: { imageMessage: { mimetype: 'image/jpeg', fileLength: 2500, mediaKey, directPath: `/v/t62/${id}`, caption: 'pic' } },
        },
      ],
    });
    const chats = await waitFor(async () => {
      const body = (await holder.request(`/api/v1/sessions/${tenant.sessionId}/chats`, { token: tenant.apiKey })).body;
      return body.data.length > 0 ? body.data : undefined;
    }, 30_000);
    const page = await waitFor(async () => {
      const body = (await holder.request(`/api/v1/sessions/${tenant.sessionId}/chats/${chats[0].id}/messages`, { token: tenant.apiKey })).body;
      return body.data.length > 0 ? body.data : undefined;
    }, 30_000);
    return { tenant, socket, messageId: page[0].id, mediaKey };
  }

  const fetchMedia = (app: TestApp, tenant: Tenant, messageId: number) =>
    fetch(`${app.baseUrl}/api/v1/sessions/${tenant.sessionId}/messages/${messageId}/media`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });

  it('streams the media with its content type and length, decrypting the stored key for the download', async () => {
    const { tenant, messageId, mediaKey } = await connectedWithImage();
    const [{ media }] = await holder.dataSource.query(`SELECT media FROM messages WHERE session_id = $1 AND id = $2`, [tenant.sessionId, messageId]);
    const file = randomBytes(2500);
    servers.files.set(media.directPath, file);
    for (const app of [holder, other]) {
      const response = await fetchMedia(app, tenant, messageId);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/jpeg');
      expect(response.headers.get('content-length')).toBe('2500');
      expect(Buffer.from(await response.arrayBuffer())).toEqual(file);
    }
    expect(servers.requests.at(-1)!.mediaKey).toEqual(mediaKey);
    // The first test of the file also waits for Baileys to load and the first session to connect.
  }, 90_000);

  it('when WhatsApp no longer has the file, the holder asks the phone to upload it again, from any replica', async () => {
    for (const app of [() => holder, () => other]) {
      const { tenant, socket, messageId } = await connectedWithImage();
      // The phone answers the re-upload request with a new path (FakeBaileysSocket.updateMediaMessage).
      const [{ wa_id: waId }] = await holder.dataSource.query(`SELECT wa_id FROM messages WHERE session_id = $1 AND id = $2`, [tenant.sessionId, messageId]);
      const file = randomBytes(2500);
      servers.files.set(`/reuploaded/${waId}`, file);
      const response = await fetchMedia(app(), tenant, messageId);
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(file);
      expect(socket.mediaReuploads.map((message) => message.key)).toEqual([{ remoteJid: ANN, id: waId, fromMe: false, participant: undefined }]);
      const [{ media }] = await holder.dataSource.query(`SELECT media FROM messages WHERE session_id = $1 AND id = $2`, [tenant.sessionId, messageId]);
      expect(media.directPath).toBe(`/reuploaded/${waId}`);
    }
  }, 90_000);

  it('answers 409 once the session is stopped', async () => {
    const { tenant, messageId } = await connectedWithImage();
    await holder.request(`/api/v1/sessions/${tenant.sessionId}/stop`, { token: tenant.apiKey, method: 'POST' });
    const response = await holder.request(`/api/v1/sessions/${tenant.sessionId}/messages/${messageId}/media`, { token: tenant.apiKey });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('conflict');
  });
});
