import { Injectable } from '@nestjs/common';
import { CursorCodec } from '../common/pagination/cursor-codec';
import { PageQuery } from '../common/pagination/page-query';
import { normalizeSessionId, SessionOwnership, sessionNotFound } from '../sessions/session-ownership';
import { ChatsRepository } from './chats.repository';
import { ChatPageResponse } from './dto/chat-page.response';

const POSITION_KEYS = 3;

@Injectable()
export class ChatsService {
  constructor(
    private readonly ownership: SessionOwnership,
    private readonly chats: ChatsRepository,
    private readonly cursors: CursorCodec,
  ) {}

  /** One page of a session's stored chats in display order. Never calls WhatsApp. */
  async listForDisplay(orgId: string, rawSessionId: string, page: PageQuery): Promise<ChatPageResponse> {
    const sessionId = normalizeSessionId(rawSessionId);
    if (sessionId === undefined) throw sessionNotFound();
    const scope = `chats:${sessionId}`;
    const after = page.cursor === undefined ? undefined : await this.decodeCursor(orgId, sessionId, scope, page.cursor);
    // The same statement checks ownership (ownedSessionCondition), so the hot path is one round trip to the database.
    const found = await this.chats.findOwnedPageForDisplay(orgId, sessionId, page.limit, after);
    if (found === undefined) throw sessionNotFound();
    return { data: found.chats, nextCursor: found.next ? this.cursors.encode(scope, found.next) : null };
  }

  /** A bad cursor is 400, but only for the owner: for anyone else the session does not exist (404). */
  private async decodeCursor(orgId: string, sessionId: string, scope: string, cursor: string): Promise<bigint[]> {
    try {
      return this.cursors.decode(scope, cursor, POSITION_KEYS);
    } catch (error) {
      await this.ownership.requireOwnedId(orgId, sessionId);
      throw error;
    }
  }
}
