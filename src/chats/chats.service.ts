import { Injectable } from '@nestjs/common';
import { CursorCodec } from '../common/pagination/cursor-codec';
import { PageQuery } from '../common/pagination/page-query';
import { SessionsService } from '../sessions/sessions.service';
import { ChatsRepository } from './chats.repository';
import { ChatPageResponse } from './dto/chat-page.response';
import { ChatResponse } from './dto/chat.response';

const POSITION_KEYS = 3;

@Injectable()
export class ChatsService {
  constructor(
    private readonly sessions: SessionsService,
    private readonly chats: ChatsRepository,
    private readonly cursors: CursorCodec,
  ) {}

  /** One page of a session's stored chats in display order. Never calls WhatsApp. */
  async listForDisplay(orgId: string, rawSessionId: string, page: PageQuery): Promise<ChatPageResponse> {
    const sessionId = await this.sessions.requireOwnedSessionId(orgId, rawSessionId);
    const scope = `chats:${sessionId}`;
    const after = page.cursor === undefined ? undefined : this.cursors.decode(scope, page.cursor, POSITION_KEYS);
    // One row more than the page tells whether another page follows, without a count query.
    const rows = await this.chats.findPageForDisplay(sessionId, page.limit + 1, after);
    const hasMore = rows.length > page.limit;
    const pageRows = hasMore ? rows.slice(0, page.limit) : rows;
    return {
      data: pageRows.map(ChatResponse.fromRow),
      nextCursor: hasMore ? this.cursors.encode(scope, pageRows[pageRows.length - 1].position) : null,
    };
  }
}
