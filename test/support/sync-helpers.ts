import { SYNC_EVENT_SINK, SyncEventSink } from '../../src/whatsapp-sync/sync-event-sink';
import { BaileysPhone } from './baileys-phone';
import { TestApp, Tenant } from './test-app';

export interface ListedChat {
  archived: boolean;
  id: number;
  jid: string;
  lastMessageAt: number | null;
  mutedUntil: number | null;
  name: string | null;
  pinned: boolean;
  sessionId: string;
  type: string;
  unreadCount: number;
}

/** Every chat of the tenant's session, in display order, paging through List chats over HTTP. */
export async function listAllChats(app: TestApp, tenant: Tenant, limit = 200): Promise<ListedChat[]> {
  const chats: ListedChat[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats${query}`, { token: tenant.apiKey });
    if (response.status !== 200) throw new Error(`List chats answered ${response.status}: ${response.text}`);
    chats.push(...response.body.data);
    cursor = response.body.nextCursor;
  } while (cursor !== null);
  return chats;
}

/** The chat with this JID, as List chats shows it (undefined when not listed). */
export async function listedChat(app: TestApp, tenant: Tenant, jid: string): Promise<ListedChat | undefined> {
  return (await listAllChats(app, tenant)).find((chat) => chat.jid === jid);
}

export function syncSink(app: TestApp): SyncEventSink {
  return app.app.get(SYNC_EVENT_SINK);
}

export async function phoneFor(app: TestApp, tenant: Tenant): Promise<BaileysPhone> {
  return BaileysPhone.create(syncSink(app), tenant.sessionId);
}

/** A chat as List chats shows it, without what differs between two sessions holding the same copy. */
export function comparable(chat: ListedChat): Omit<ListedChat, 'id' | 'sessionId'> {
  const { id: _id, sessionId: _sessionId, ...rest } = chat;
  return rest;
}

/** A new tenant with `read`, and a Baileys phone feeding its session's sync. */
export async function tenantWithPhone(app: TestApp): Promise<{ tenant: Tenant; phone: BaileysPhone }> {
  const tenant = await app.createTenant(['read']);
  return { tenant, phone: await phoneFor(app, tenant) };
}
