import { Controller, Headers, MessageEvent, Query, Sse } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { RequireCapability } from '../auth/require-capability.decorator';
import { ApiErrorResponses } from '../common/errors/api-error-responses.decorator';
import { SessionOwnership } from '../sessions/session-ownership';
import { EventStreamQuery, EventStreamQueryPipe, resumePosition } from './event-stream.query';
import { EventStreamService } from './event-stream.service';

/** Characters of events that may wait for a client that does not read; past that its stream is cut (it resumes from its last id). */
const MAX_PENDING_CHARACTERS = 1024 * 1024;

const STREAM_EXAMPLE = [
  'retry: 2000',
  'id: 0000000000000004210',
  ': stream open',
  '',
  'event: chat.updated',
  'id: 0000000000000004211',
  'data: {"id":"0000000000000004211","type":"chat.updated","orgId":"org-acme","sessionId":"01J9ZX8K2QHV0M3T6R7P4N5W8C","occurredAt":1719662400123,"data":{"archived":false,"id":3344,"jid":"6281234567890@s.whatsapp.net","lastMessageAt":1719662400000,"mutedUntil":null,"name":"Alice","pinned":false,"sessionId":"01J9ZX8K2QHV0M3T6R7P4N5W8C","type":"dm","unreadCount":3}}',
  '',
  'event: message.received',
  'id: 0000000000000004212',
  'data: {"id":"0000000000000004212","type":"message.received","orgId":"org-acme","sessionId":"01J9ZX8K2QHV0M3T6R7P4N5W8C","occurredAt":1719662400140,"data":{"id":918273,"sessionId":"01J9ZX8K2QHV0M3T6R7P4N5W8C","chatId":3344,"key":{"remoteJid":"6281234567890@s.whatsapp.net","id":"3EB0C431C26A1916E3C1","fromMe":false,"participant":null},"senderJid":"6281234567890@s.whatsapp.net","pushName":"Alice","timestamp":1719662400000,"type":"text","text":"See you at 8?","quotedMessageId":null,"mentions":[],"media":null,"status":null,"editedAt":null,"deletedAt":null,"reactions":[],"failureReason":null,"queue":null}}',
  '',
  ': heartbeat',
  '',
].join('\n');

@ApiTags('Events')
@Controller('events')
export class EventsController {
  constructor(
    private readonly streams: EventStreamService,
    private readonly sessions: SessionOwnership,
  ) {}

  @Sse('stream', { maxPendingDataLength: MAX_PENDING_CHARACTERS })
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'streamEvents',
    summary: 'Stream events (Server-Sent Events)',
    description: [
      "The organization's events as they are committed, on any replica: `text/event-stream`, one SSE message per event (`event:` its type, `id:` its id, `data:` the event as JSON, as webhooks deliver it). A comment line is sent every EVENTS_STREAM_HEARTBEAT_MS.",
      'Reconnect with `Last-Event-ID` (EventSource does this by itself) to get every event after that id once, in order, out of the event log (kept EVENTS_RETENTION_HOURS). Without it the stream starts now.',
      'When retention already deleted events after that id, the stream first sends a `gap` message (`event: gap`, `id:` where it resumes, `data: {"type":"gap","lastEventId","resumesAfter","reason"}`): events may be missing, re-read the state you need from the REST API. It then streams on from `resumesAfter`.',
      'A client that does not read is cut off rather than buffered without bound, and a replica that shuts down ends its streams with a `retry` hint: both resume with Last-Event-ID. See docs/events.md for every event type.',
    ].join('\n\n'),
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id.', example: '0000000000000004210' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An endless stream of events.', content: { 'text/event-stream': { schema: { type: 'string' }, example: STREAM_EXAMPLE } } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found')
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Query(EventStreamQueryPipe) query: EventStreamQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
  ): Promise<Observable<MessageEvent>> {
    const after = resumePosition(lastEventId, query.lastEventId);
    const sessionId = query.sessionId === undefined ? undefined : await this.sessions.requireOwnedId(principal.orgId, query.sessionId);
    return this.streams.stream({ orgId: principal.orgId, filter: { types: query.types, sessionId }, after });
  }
}
