import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LinkingError } from './linking';
import type { AppStateChange } from './phone-account';
import { ChatSeed, ContactSeed, generatedPhoneBook, PhoneBook, samplePhoneBook } from './phone-book';
import { ReceiptType, SimulatorError, WhatsAppSimulator } from './whatsapp-simulator';

const MAX_BODY = 8 * 1024 * 1024;

type Handler = (params: string[], body: Record<string, unknown>) => Promise<[number, unknown]>;

/**
 * The simulator's admin HTTP API (JSON), to act as the phones and as WhatsApp's servers:
 *
 *   GET  /info                                   ws URL and the root key to trust
 *   POST /accounts                               { phone, pushName?, chats?, contacts?, sample?, generate? }
 *   GET  /devices                                linked devices and their live connections
 *   GET  /accounts/{phone}/devices               the same, for one account
 *   POST /accounts/{phone}/scan                  { qr }: the phone scans a QR the gateway shows
 *   POST /accounts/{phone}/pairing-code          { code }: the user types the code into the phone
 *   POST /accounts/{phone}/messages              { from, text | message (a proto.Message as JSON), group?, pushName? }
 *   POST /accounts/{phone}/groups                { subject, creator }
 *   POST /accounts/{phone}/groups/{jid}/subject  { subject, by }
 *   POST /accounts/{phone}/app-state             { action: pin|archive|mute|markRead|delete, jid, value?, muteEndTime? }
 *   POST /accounts/{phone}/app-state/refuse      { error: 400-599 | null }: the server refuses (or again accepts) the devices' app-state patches
 *   GET  /accounts/{phone}/app-state/uploads     the app-state patches the server took from the linked devices
 *   GET  /accounts/{phone}/contacts/{jid}/received  what the contact decrypted from the linked devices
 *   GET  /accounts/{phone}/contacts/{jid}/received/{id}/media  the contact downloads and decrypts a media message's file
 *   POST /accounts/{phone}/contacts/{jid}/receipts  { ids, type: delivery|read|played }: the contact's phone reports them
 *   POST /accounts/{phone}/chats/{jid}/refuse     { error: 400-599 | null }: the server refuses (or again accepts) sends to that chat
 *   POST /accounts/{phone}/chats/{jid}/acks       { hold: true | false }: the server holds its acks for that chat, or sends the held ones
 *   POST /devices/{jid}/drop                     close the TCP connection without a goodbye
 *   POST /devices/{jid}/stream-error             { code }
 *   POST /devices/{jid}/logout                   the phone unlinks the device
 */
export class AdminApi {
  private constructor(private readonly server: Server) {}

  static async start(simulator: WhatsAppSimulator, options: { host?: string; port?: number } = {}): Promise<AdminApi> {
    const routes = adminRoutes(simulator);
    const server = createServer((request, response) => void handle(routes, request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
    });
    return new AdminApi(server);
  }

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function adminRoutes(simulator: WhatsAppSimulator): [string, RegExp, Handler][] {
  const string = (body: Record<string, unknown>, key: string, required = true): string | undefined => {
    const value = body[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > 65_536) throw new SimulatorError(`${key} must be a non-empty string`);
    return value;
  };
  return [
    ['GET', /^\/info$/, async () => [200, { wsUrl: simulator.url, rootKey: simulator.rootPublicKeyHex, mediaCa: simulator.mediaCertificatePem }]],
    [
      'POST',
      /^\/accounts$/,
      async (_, body) => {
        const account = await simulator.createAccount({
          phone: string(body, 'phone')!,
          pushName: string(body, 'pushName', false),
          phoneBook: phoneBookFrom(body),
        });
        return [201, { phone: account.phone, jid: account.jid, lid: `${account.lidUser}@lid`, chats: account.chats.size }];
      },
    ],
    ['GET', /^\/devices$/, async () => [200, { data: simulator.devices() }]],
    ['GET', /^\/accounts\/(\d+)\/devices$/, async ([phone]) => [200, { data: simulator.devices(simulator.account(phone).phone) }]],
    ['POST', /^\/accounts\/(\d+)\/scan$/, async ([phone], body) => [200, { device: await simulator.scan(string(body, 'qr')!, phone) }]],
    [
      'POST',
      /^\/accounts\/(\d+)\/pairing-code$/,
      async ([phone], body) => {
        await simulator.typePairingCode(phone, string(body, 'code')!);
        return [202, { accepted: true }];
      },
    ],
    [
      'POST',
      /^\/accounts\/(\d+)\/messages$/,
      async ([phone], body) => {
        const id = await simulator.sendMessage({
          to: phone,
          from: string(body, 'from')!,
          text: string(body, 'text', body.message === undefined),
          message: body.message as Record<string, unknown> | undefined,
          group: string(body, 'group', false),
          pushName: string(body, 'pushName', false),
          undecryptableFirstCopy: body.undecryptableFirstCopy === true,
        });
        return [201, { id }];
      },
    ],
    [
      'POST',
      /^\/accounts\/(\d+)\/groups$/,
      async ([phone], body) => [201, { jid: await simulator.createGroup(phone, { subject: string(body, 'subject')!, creator: string(body, 'creator')! }) }],
    ],
    [
      'POST',
      /^\/accounts\/(\d+)\/groups\/([^/]+)\/subject$/,
      async ([phone, jid], body) => {
        await simulator.renameGroup(phone, decodeURIComponent(jid), string(body, 'subject')!, string(body, 'by')!);
        return [200, { renamed: true }];
      },
    ],
    ['POST', /^\/accounts\/(\d+)\/app-state$/, async ([phone], body) => [200, { version: await simulator.changeAppState(phone, appStateChangeFrom(body)) }]],
    [
      'POST',
      /^\/accounts\/(\d+)\/app-state\/refuse$/,
      async ([phone], body) => {
        if (body.error !== null && typeof body.error !== 'number') throw new SimulatorError('error must be an integer 400-599, or null');
        simulator.refuseAppStatePatches(phone, body.error ?? undefined);
        return [200, { refusing: body.error }];
      },
    ],
    ['GET', /^\/accounts\/(\d+)\/app-state\/uploads$/, async ([phone]) => [200, { data: simulator.appStateUploads(phone) }]],
    ['GET', /^\/accounts\/(\d+)\/contacts\/([^/]+)\/received$/, async ([phone, jid]) => [200, { data: simulator.received(phone, decodeURIComponent(jid)) }]],
    [
      'GET',
      /^\/accounts\/(\d+)\/contacts\/([^/]+)\/received\/([^/]+)\/media$/,
      async ([phone, jid, id]) => {
        const media = await simulator.downloadMedia(phone, decodeURIComponent(jid), decodeURIComponent(id));
        return [200, { type: media.type, mimetype: media.mimetype, size: media.bytes.length, base64: media.bytes.toString('base64') }];
      },
    ],
    [
      'POST',
      /^\/accounts\/(\d+)\/contacts\/([^/]+)\/receipts$/,
      async ([phone, jid], body) => {
        const devices = simulator.sendReceipt(phone, decodeURIComponent(jid), body.ids as string[], string(body, 'type')! as ReceiptType);
        return [200, { devices }];
      },
    ],
    [
      'POST',
      /^\/accounts\/(\d+)\/chats\/([^/]+)\/refuse$/,
      async ([phone, jid], body) => {
        if (body.error !== null && typeof body.error !== 'number') throw new SimulatorError('error must be an integer 400-599, or null');
        simulator.refuseMessagesTo(phone, decodeURIComponent(jid), body.error ?? undefined);
        return [200, { refusing: body.error }];
      },
    ],
    [
      'POST',
      /^\/accounts\/(\d+)\/chats\/([^/]+)\/acks$/,
      async ([phone, jid], body) => {
        if (typeof body.hold !== 'boolean') throw new SimulatorError('hold must be true or false');
        if (body.hold) {
          simulator.holdAcks(phone, decodeURIComponent(jid));
          return [200, { holding: true }];
        }
        return [200, { holding: false, released: await simulator.releaseAcks(phone, decodeURIComponent(jid)) }];
      },
    ],
    ['POST', /^\/devices\/([^/]+)\/drop$/, async ([jid]) => [200, { closed: simulator.dropConnection(decodeURIComponent(jid)) }]],
    [
      'POST',
      /^\/devices\/([^/]+)\/stream-error$/,
      async ([jid], body) => {
        const code = body.code;
        if (!Number.isInteger(code) || (code as number) < 100 || (code as number) > 999) throw new SimulatorError('code must be an integer 100-999');
        return [200, { closed: await simulator.streamError(decodeURIComponent(jid), code as number) }];
      },
    ],
    [
      'POST',
      /^\/devices\/([^/]+)\/logout$/,
      async ([jid]) => {
        await simulator.removeDevice(decodeURIComponent(jid));
        return [200, { removed: true }];
      },
    ],
  ];
}

function phoneBookFrom(body: Record<string, unknown>): PhoneBook {
  const now = Math.floor(Date.now() / 1000);
  if (body.generate !== undefined) {
    if (!Number.isInteger(body.generate) || (body.generate as number) < 0 || (body.generate as number) > 1_000_000)
      throw new SimulatorError('generate must be 0-1000000');
    return generatedPhoneBook(body.generate as number, now);
  }
  if (body.sample === true || (body.chats === undefined && body.contacts === undefined)) return samplePhoneBook(now);
  if (!Array.isArray(body.chats ?? []) || !Array.isArray(body.contacts ?? [])) throw new SimulatorError('chats and contacts must be arrays');
  const chats = (body.chats ?? []) as ChatSeed[];
  for (const chat of chats) if (typeof chat?.jid !== 'string' || !/^[\w.:-]+@[\w.]+$/.test(chat.jid)) throw new SimulatorError('every chat needs a jid');
  return { chats, contacts: (body.contacts ?? []) as ContactSeed[] };
}

function appStateChangeFrom(body: Record<string, unknown>): AppStateChange {
  const { action, jid, value, muteEndTime } = body;
  if (typeof jid !== 'string' || !jid.includes('@')) throw new SimulatorError('jid must be a chat JID');
  if (action === 'delete') return { action, jid };
  if (action !== 'pin' && action !== 'archive' && action !== 'mute' && action !== 'markRead') {
    throw new SimulatorError('action must be pin, archive, mute, markRead or delete');
  }
  if (typeof value !== 'boolean') throw new SimulatorError('value must be true or false');
  if (action === 'mute') {
    if (muteEndTime !== undefined && !Number.isInteger(muteEndTime)) throw new SimulatorError('muteEndTime must be an integer (-1 = forever)');
    return { action, jid, value, muteEndTime: muteEndTime as number | undefined };
  }
  return { action, jid, value };
}

async function handle(routes: [string, RegExp, Handler][], request: IncomingMessage, response: ServerResponse): Promise<void> {
  const send = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  try {
    const path = (request.url ?? '/').split('?')[0];
    const match = routes.map(([method, pattern, handler]) => ({ method, handler, params: pattern.exec(path) })).filter((route) => route.params);
    const route = match.find((candidate) => candidate.method === request.method);
    if (!route)
      return send(match.length ? 405 : 404, { error: { code: match.length ? 'method_not_allowed' : 'not_found', message: `${request.method} ${path}` } });
    const body = request.method === 'GET' ? {} : await readJson(request);
    const [status, result] = await route.handler(route.params!.slice(1), body);
    send(status, result);
  } catch (error) {
    if (error instanceof SimulatorError)
      return send(error.status, {
        error: { code: error.status === 404 ? 'not_found' : error.status === 409 ? 'conflict' : 'bad_request', message: error.message },
      });
    if (error instanceof LinkingError) return send(409, { error: { code: 'conflict', message: error.message } });
    send(500, { error: { code: 'internal', message: (error as Error).message } });
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new SimulatorError('body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error();
    return parsed as Record<string, unknown>;
  } catch {
    throw new SimulatorError('body must be a JSON object');
  }
}
