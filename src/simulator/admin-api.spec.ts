import { AdminApi } from './admin-api';
import { WhatsAppSimulator } from './whatsapp-simulator';

/** The simulator's admin API over real HTTP: the calls a test or a person makes as the phone, and the 4xx for bad ones. */
describe('simulator admin API', () => {
  let simulator: WhatsAppSimulator;
  let admin: AdminApi;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${admin.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    simulator = await WhatsAppSimulator.start();
    admin = await AdminApi.start(simulator);
  });
  afterAll(async () => {
    await admin.close();
    await simulator.stop();
  });

  it('tells the gateway settings and creates phones (sample, given, generated)', async () => {
    expect(await call('GET', '/info')).toEqual({
      status: 200,
      body: { wsUrl: simulator.url, rootKey: expect.stringMatching(/^[0-9a-f]{64}$/), mediaCa: simulator.mediaCertificatePem },
    });
    expect(await call('POST', '/accounts', { phone: '15551230001' })).toMatchObject({ status: 201, body: { jid: '15551230001@s.whatsapp.net', chats: 15 } });
    expect(await call('POST', '/accounts', { phone: '15551230002', chats: [{ jid: '14155550199@s.whatsapp.net', name: 'Zoe' }] })).toMatchObject({
      status: 201,
      body: { chats: 1 },
    });
    expect(await call('POST', '/accounts', { phone: '15551230003', generate: 250 })).toMatchObject({ status: 201, body: { chats: 250 } });
    expect(await call('GET', '/devices')).toEqual({ status: 200, body: { data: [] } });
    // Nothing linked yet: the message is kept for nobody, the app-state change is versioned.
    expect(await call('POST', '/accounts/15551230001/messages', { from: '14155550101', text: 'hi' })).toMatchObject({
      status: 201,
      body: { id: expect.stringMatching(/^3EB0/) },
    });
    expect(await call('POST', '/accounts/15551230001/app-state', { action: 'pin', jid: '14155550101@s.whatsapp.net', value: true })).toEqual({
      status: 200,
      body: { version: 1 },
    });
  });

  it('answers bad calls with a 4xx envelope', async () => {
    expect(await call('POST', '/accounts', { phone: 'abc' })).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(await call('POST', '/accounts', 'not json')).toMatchObject({ status: 400, body: { error: { message: 'body must be a JSON object' } } });
    expect(await call('POST', '/accounts/19999999999/scan', { qr: 'x' })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await call('POST', '/accounts/15551230001/scan', { qr: 'not-a-qr' })).toMatchObject({ status: 400 });
    const wellFormed = `2@ref,${Buffer.alloc(32).toString('base64')},${Buffer.alloc(32).toString('base64')},${Buffer.alloc(32).toString('base64')},1`;
    expect(await call('POST', '/accounts/15551230001/scan', { qr: wellFormed })).toMatchObject({
      status: 404,
      body: { error: { message: expect.stringContaining('no client is waiting') } },
    });
    expect(await call('POST', '/accounts/15551230001/messages', { from: 'someone', text: 'hi' })).toMatchObject({ status: 400 });
    expect(await call('POST', '/accounts/15551230001/messages', { from: '14155550101' })).toMatchObject({ status: 400 });
    expect(await call('POST', '/accounts/15551230001/messages', { from: '14155550101', text: 'a', message: { conversation: 'b' } })).toMatchObject({
      status: 400,
    });
    expect(await call('POST', '/accounts/15551230001/messages', { from: '14155550101', message: { nothing: 1 } })).toMatchObject({
      status: 400,
      body: { error: { message: 'message names no field of proto.Message' } },
    });
    expect(await call('POST', '/accounts/15551230001/messages', { from: '14155550101', message: { locationMessage: 'x' } })).toMatchObject({ status: 400 });
    expect(await call('POST', '/accounts/15551230001/messages', { from: '14155550101', message: { locationMessage: { degreesLatitude: 1 } } })).toMatchObject({
      status: 201,
    });
    expect(await call('POST', '/accounts/15551230001/app-state', { action: 'star', jid: 'x@s.whatsapp.net', value: true })).toMatchObject({ status: 400 });
    expect(await call('POST', '/devices/15551230001:9@s.whatsapp.net/drop')).toMatchObject({ status: 404 });
    // A contact can report only messages it received; nothing was sent to it yet.
    expect(await call('GET', '/accounts/15551230001/contacts/14155550101/received')).toEqual({ status: 200, body: { data: [] } });
    expect(await call('GET', '/accounts/15551230001/contacts/bob/received')).toMatchObject({ status: 400 });
    expect(await call('POST', '/accounts/15551230001/contacts/14155550101@s.whatsapp.net/receipts', { ids: ['3EB0AA'], type: 'read' })).toMatchObject({
      status: 404,
      body: { error: { message: '14155550101@s.whatsapp.net received no message 3EB0AA' } },
    });
    expect(await call('POST', '/accounts/15551230001/contacts/14155550101/receipts', { ids: [], type: 'read' })).toMatchObject({ status: 400 });
    expect(await call('POST', '/accounts/15551230001/contacts/14155550101/receipts', { ids: ['3EB0AA'], type: 'seen' })).toMatchObject({ status: 400 });
    expect(await call('POST', '/accounts/15551230001/chats/14155550101/refuse', { error: 479 })).toEqual({ status: 200, body: { refusing: 479 } });
    expect(await call('POST', '/accounts/15551230001/chats/14155550101/refuse', { error: null })).toEqual({ status: 200, body: { refusing: null } });
    expect(await call('POST', '/accounts/15551230001/chats/14155550101/refuse', { error: 200 })).toMatchObject({ status: 400 });
    expect(await call('POST', '/accounts/15551230001/chats/14155550101/refuse', {})).toMatchObject({ status: 400 });
    expect(await call('POST', '/accounts/15551230001/chats/14155550101/acks', { hold: true })).toEqual({ status: 200, body: { holding: true } });
    expect(await call('POST', '/accounts/15551230001/chats/14155550101/acks', { hold: false })).toEqual({ status: 200, body: { holding: false, released: 0 } });
    expect(await call('POST', '/accounts/15551230001/chats/14155550101/acks', { hold: 'yes' })).toMatchObject({ status: 400 });
    expect(await call('POST', '/devices/15551230001:9@s.whatsapp.net/stream-error', { code: 'x' })).toMatchObject({ status: 400 });
    expect(await call('GET', '/nowhere')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await call('DELETE', '/info')).toMatchObject({ status: 405 });
  });
});
