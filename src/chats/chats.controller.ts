import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/require-capability.decorator';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses } from '../common/errors/api-error-responses.decorator';
import { PageQueryPipe } from '../common/pagination/page-query';
import { ChatsService } from './chats.service';
import { ChatPageQuery } from './dto/chat-page.query';
import { ChatPageResponse } from './dto/chat-page.response';

const LIST_CHATS_DESCRIPTION = [
  "Returns a page of the session's chats, served from the gateway's **stored copy** (not a live WhatsApp query), ordered for display.",
  'Page through results with `limit` and `cursor`: send the `nextCursor` from the previous response back as `cursor` to fetch the next page.',
  'When `nextCursor` is `null` there are no more chats. Requires the `read` capability.',
  "**Errors** - `not_found` (404): the session does not exist or is not owned by the caller's organization.",
  '- `forbidden` (403): the caller lacks the `read` capability.',
].join(' ');

@ApiTags('Chats')
@Controller('sessions/:session/chats')
export class ChatsController {
  constructor(private readonly chats: ChatsService) {}

  @Get()
  @RequireCapability('read')
  @ApiOperation({ operationId: 'listChats', summary: 'List chats', description: LIST_CHATS_DESCRIPTION })
  @ApiParam({
    name: 'session',
    type: 'string',
    example: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
    description:
      "The WhatsApp session id (a session is one attached WhatsApp number). The session must be owned by the caller's organization or the request fails with not_found.",
  })
  @ApiOkResponse({
    type: ChatPageResponse,
    description: 'A page of chats in display order.',
    example: {
      data: [
        {
          archived: false,
          id: 3344,
          jid: '6281234567890@s.whatsapp.net',
          lastMessageAt: 1719662400000,
          mutedUntil: 1751198400000,
          name: 'Alice',
          pinned: false,
          sessionId: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
          type: 'dm',
          unreadCount: 3,
        },
      ],
      nextCursor: null,
    },
  })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found')
  list(@CurrentPrincipal() principal: Principal, @Param('session') session: string, @Query(PageQueryPipe) page: ChatPageQuery): Promise<ChatPageResponse> {
    return this.chats.listForDisplay(principal.orgId, session, page);
  }
}
