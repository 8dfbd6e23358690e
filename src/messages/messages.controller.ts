import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiExtension, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ChangeChatRequest, EditMessageRequest, ReactionRequest, WriteResponse } from './dto/message-writes.dto';
import { MessageWritesService } from './sending/message-writes.service';
import { SEND_FAILURES } from './sending/outgoing-message';
import { ValidatedBodyPipe } from '../common/validation/validated-body.pipe';
import type { StreamedBody } from '../common/http/streamed-body';
import { MULTIPART_BODY_EXTENSION } from '../common/openapi/arrange-document';
import { isMultipartContentType } from '../http/json-body';
import { RequestBodyStream } from '../http/streamed-body';
import { MEDIA_KINDS } from '../config/app-config';
import { MAX_TEXT, SEND_TARGET, SendMessageRequest } from './dto/send-message.request';
import { SendMessageResponse } from './dto/send-message.response';
import { SendMessageService } from './sending/send-message.service';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { RequireCapability } from '../auth/require-capability.decorator';
import { ApiErrorResponses } from '../common/errors/api-error-responses.decorator';
import { PageQueryPipe } from '../common/pagination/page-query';
import { MessagePageQuery } from './dto/message-page.query';
import { MessagePageResponse } from './dto/message-page.response';
import { MessageResponse } from './dto/message.response';
import { MessagesService } from './messages.service';

const SESSION_PARAM = {
  name: 'session',
  type: 'string',
  example: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
  description: "The WhatsApp session id. The session must be owned by the caller's organization or the request fails with not_found.",
} as const;
const MESSAGE_PARAM = { name: 'message', type: 'string', example: '918273', description: 'The `id` of a stored message (int64).' } as const;

export const MESSAGE_EXAMPLE: MessageResponse = {
  id: 918273,
  sessionId: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
  chatId: 3344,
  key: { remoteJid: '6281234567890@s.whatsapp.net', id: '3EB0C431C26A1916E3C1', fromMe: false, participant: null },
  senderJid: '6281234567890@s.whatsapp.net',
  pushName: 'Alice',
  timestamp: 1719662400000,
  type: 'image',
  text: 'See you at 8?',
  quotedMessageId: null,
  mentions: [],
  media: { mimetype: 'image/jpeg', size: 48213, fileName: null, width: 1280, height: 960, duration: null },
  status: null,
  editedAt: null,
  deletedAt: null,
  reactions: [{ senderJid: null, fromMe: true, emoji: '👍', at: 1719662460000 }],
  failureReason: null,
  queue: null,
};

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description:
    'Up to 255 printable ASCII characters, unique per request (a UUID). Kept 24 hours per organization: the same key and request answer the first answer again and write nothing.',
  example: '6f1c2b9e-2d4a-4c8e-9a57-0c1f5e3b7d21',
} as const;
const IDEMPOTENCY_ERRORS =
  '`invalid_argument` (400) also for a malformed Idempotency-Key; `conflict` (409, `details.reason: idempotency_key_reused`): the key was used with another request in the last 24 hours.';
const SEND_BODY = new ValidatedBodyPipe(SendMessageRequest);

const CHAT_PARAM = { name: 'chat', type: 'string', example: '3344', description: 'The chat `id` that List chats returns (int64).' } as const;

const WRITE_EXAMPLE: WriteResponse = {
  id: 77120,
  action: 'reaction',
  chatId: 3344,
  messageId: 918273,
  status: 'pending',
  failureReason: null,
  queue: { position: 0, expectedSendAt: 1719662400000 },
};
const QUEUED = 'Queued (status `pending`); Get write shows what became of it.';

@ApiTags('Messages')
@Controller('sessions/:session')
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly sending: SendMessageService,
    private readonly writes: MessageWritesService,
  ) {}

  @Post('messages/:message/reactions')
  @HttpCode(202)
  @RequireCapability('send')
  @ApiOperation({
    operationId: 'reactToMessage',
    summary: 'React to a message',
    description: [
      "Queues this account's reaction to a stored message (an empty `emoji` removes it) in the session's outbox; the holder sends it (Baileys' `react`),",
      "paced with the messages, once; the message's `reactions` show it once WhatsApp took it. Requires the `send` capability.",
      "**Errors** - `invalid_argument` (400): a bad body. `not_found` (404): no such message in a session of the caller's organization.",
      '`conflict` (409, `details.reason: message_deleted`): the message was deleted for everyone.',
      IDEMPOTENCY_ERRORS,
    ].join(' '),
  })
  @ApiParam(SESSION_PARAM)
  @ApiParam(MESSAGE_PARAM)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({
    type: ReactionRequest,
    examples: { react: { summary: 'React', value: { emoji: '👍' } }, remove: { summary: 'Remove the reaction', value: { emoji: '' } } },
  })
  @ApiAcceptedResponse({ type: WriteResponse, description: QUEUED, example: WRITE_EXAMPLE })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found', 'conflict')
  react(
    @CurrentPrincipal() principal: Principal,
    @Param('session') session: string,
    @Param('message') message: string,
    @Body(new ValidatedBodyPipe(ReactionRequest)) body: ReactionRequest,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<WriteResponse> {
    return this.writes.react(principal.orgId, session, message, body.emoji, idempotencyKey);
  }

  @Patch('messages/:message')
  @HttpCode(202)
  @RequireCapability('send')
  @ApiOperation({
    operationId: 'editMessage',
    summary: 'Edit an own text message',
    description: [
      "Queues new text for a text message this account sent, within WhatsApp's edit window (15 minutes after it was sent); the holder sends the edit",
      "(Baileys' `edit`), once; the message shows the new `text` and `editedAt` once WhatsApp took it. Requires the `send` capability.",
      "**Errors** - `invalid_argument` (400): a bad body. `not_found` (404): no such message in a session of the caller's organization.",
      '`conflict` (409, `details.reason`): `not_own_message`, `not_text_message`, `not_sent` (still pending, or failed), `message_deleted`, `edit_window_passed`.',
      IDEMPOTENCY_ERRORS,
    ].join(' '),
  })
  @ApiParam(SESSION_PARAM)
  @ApiParam(MESSAGE_PARAM)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({ type: EditMessageRequest, examples: { edit: { summary: 'New text', value: { text: 'See you at 9?' } } } })
  @ApiAcceptedResponse({ type: WriteResponse, description: QUEUED, example: { ...WRITE_EXAMPLE, action: 'edit' } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found', 'conflict')
  edit(
    @CurrentPrincipal() principal: Principal,
    @Param('session') session: string,
    @Param('message') message: string,
    @Body(new ValidatedBodyPipe(EditMessageRequest)) body: EditMessageRequest,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<WriteResponse> {
    return this.writes.edit(principal.orgId, session, message, body.text, idempotencyKey);
  }

  @Delete('messages/:message')
  @HttpCode(202)
  @RequireCapability('send')
  @ApiOperation({
    operationId: 'deleteMessage',
    summary: 'Delete an own message for everyone',
    description: [
      "With `forEveryone=true`: queues the deletion for everyone of a message this account sent, within WhatsApp's window (about 2 days and 12 hours);",
      "the holder sends it (Baileys' `delete`), once; the message keeps its place with `deletedAt` and no text or media once WhatsApp took it.",
      'Requires the `send` capability.',
      "**Errors** - `invalid_argument` (400): `forEveryone` is not `true`. `not_found` (404): no such message in a session of the caller's organization.",
      '`conflict` (409, `details.reason`): `not_own_message`, `not_sent`, `message_deleted`, `delete_window_passed`.',
      IDEMPOTENCY_ERRORS,
    ].join(' '),
  })
  @ApiParam(SESSION_PARAM)
  @ApiParam(MESSAGE_PARAM)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiQuery({ name: 'forEveryone', required: true, enum: ['true'], description: 'Must be `true`: deleting a message only here is not supported.' })
  @ApiAcceptedResponse({ type: WriteResponse, description: QUEUED, example: { ...WRITE_EXAMPLE, action: 'delete' } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found', 'conflict')
  deleteForEveryone(
    @CurrentPrincipal() principal: Principal,
    @Param('session') session: string,
    @Param('message') message: string,
    @Query('forEveryone') forEveryone: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<WriteResponse> {
    return this.writes.deleteForEveryone(principal.orgId, session, message, forEveryone, idempotencyKey);
  }

  @Post('chats/:chat/read')
  @HttpCode(202)
  @RequireCapability('send')
  @ApiOperation({
    operationId: 'markChatRead',
    summary: 'Mark a chat read',
    description: [
      "Queues read receipts for the chat's unread incoming messages (the newest, as many as its unread count) in the session's outbox; the holder sends them",
      "(Baileys' `readMessages`), once, and the chat's `unreadCount` becomes 0 once WhatsApp took them. Requires the `send` capability.",
      "**Errors** - `not_found` (404): the session is not the caller organization's, or the chat is not the session's (the same answer in every case).",
      IDEMPOTENCY_ERRORS,
    ].join(' '),
  })
  @ApiParam(SESSION_PARAM)
  @ApiParam(CHAT_PARAM)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiAcceptedResponse({ type: WriteResponse, description: QUEUED, example: { ...WRITE_EXAMPLE, action: 'read', messageId: null } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found', 'conflict')
  markRead(
    @CurrentPrincipal() principal: Principal,
    @Param('session') session: string,
    @Param('chat') chat: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<WriteResponse> {
    return this.writes.markChatRead(principal.orgId, session, chat, idempotencyKey);
  }

  @Patch('chats/:chat')
  @HttpCode(202)
  @RequireCapability('send')
  @ApiOperation({
    operationId: 'changeChat',
    summary: 'Archive, pin, mute or mark a chat unread',
    description: [
      "Queues a change of the chat in WhatsApp (the fields given; at least one) in the session's outbox; the holder writes each field to WhatsApp as an app-state",
      "change (Baileys' `chatModify`: archive, pin, mute, markRead), once, paced with the messages. The stored chat, and so List chats (`archived`, `pinned`,",
      '`mutedUntil`, `unreadCount` at least 1 when marked unread), changes only when WhatsApp accepted the change; a change WhatsApp refuses leaves the chat',
      'as it was and fails the write with a reason. A session that is not connected keeps the change queued until it connects (up to `SEND_EXPIRY_MS`).',
      'Requires the `send` capability.',
      '**Errors** - `invalid_argument` (400): no field, an unknown field, a non-boolean flag, `mutedUntil` not an integer in the future (up to 253402300799000).',
      "`not_found` (404): the session is not the caller organization's, or the chat is not the session's (the same answer in every case).",
      IDEMPOTENCY_ERRORS,
    ].join(' '),
  })
  @ApiParam(SESSION_PARAM)
  @ApiParam(CHAT_PARAM)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({
    type: ChangeChatRequest,
    examples: {
      archive: { summary: 'Archive', value: { archived: true } },
      pinAndMute: { summary: 'Pin and mute until a time', value: { pinned: true, mutedUntil: 1751198400000 } },
      muteForever: { summary: 'Mute forever', value: { mutedUntil: 253402300799000 } },
      unmute: { summary: 'Unmute', value: { mutedUntil: null } },
      markUnread: { summary: 'Mark unread', value: { markedUnread: true } },
    },
  })
  @ApiAcceptedResponse({ type: WriteResponse, description: QUEUED, example: { ...WRITE_EXAMPLE, action: 'chat', messageId: null } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found', 'conflict')
  changeChat(
    @CurrentPrincipal() principal: Principal,
    @Param('session') session: string,
    @Param('chat') chat: string,
    @Body(new ValidatedBodyPipe(ChangeChatRequest)) body: ChangeChatRequest,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<WriteResponse> {
    return this.writes.changeChat(principal.orgId, session, chat, body, idempotencyKey);
  }

  @Get('writes/:write')
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'getWrite',
    summary: 'Get a write',
    description: [
      'What became of a reaction, edit, delete for everyone, mark read or chat change (by the `id` its 202 answer gave): `pending` while queued (with `queue`) or handed to WhatsApp',
      'without its server ack yet; `sent` once WhatsApp acknowledged it (the stored message or chat shows it from then on); `failed` with a `failureReason`',
      '(expired before the session was connected, refused by WhatsApp, or its message deleted before it went). Requires the `read` capability.',
      "**Errors** - `not_found` (404): no such write in a session of the caller's organization (the same answer in every case).",
    ].join(' '),
  })
  @ApiParam(SESSION_PARAM)
  @ApiParam({ name: 'write', type: 'string', example: '77120', description: 'The `id` of a write, from its 202 answer (int64).' })
  @ApiOkResponse({
    type: WriteResponse,
    description: 'The write and its status.',
    example: { ...WRITE_EXAMPLE, status: 'failed', queue: null, failureReason: SEND_FAILURES.rejected },
  })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found')
  getWrite(@CurrentPrincipal() principal: Principal, @Param('session') session: string, @Param('write') write: string): Promise<WriteResponse> {
    return this.writes.get(principal.orgId, session, write);
  }

  @Post('messages')
  @HttpCode(202)
  @RequireCapability('send')
  @ApiOperation({
    operationId: 'sendMessage',
    summary: 'Send a message',
    description: [
      'Accepts a text, location or contact message (JSON), or a file (`multipart/form-data`: image, video, audio, voice note, document, sticker, streamed and staged in the database) for `to`,',
      'stores it (status `pending`, its WhatsApp id fixed now, a file with its media metadata; it shows in List messages at once) and answers 202.',
      'The replica holding the session sends it, paced per session; its status then follows WhatsApp (`sent`, `delivered`, `read`, `played`), or becomes `failed`',
      '(not sent before SEND_EXPIRY_MS, or refused). With an `Idempotency-Key`, the same key and body within 24 hours answer the first answer again and send nothing.',
      'Requires the `send` capability. See docs/sending.md.',
      "**Errors** - `invalid_argument` (400): a bad body or Idempotency-Key; a form without exactly one `media` part, or with `type` after it. `not_found` (404): the session is not the caller organization's.",
      '`conflict` (409, `details.reason: idempotency_key_reused`): the key was used with another body (or session, or file) in the last 24 hours.',
      "`payload_too_large` (413): the file is over its kind's limit (`details.limit`). `unsupported_media_type` (415): its content type is not one its kind takes (`details.allowed`).",
    ].join(' '),
  })
  @ApiParam(SESSION_PARAM)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({
    type: SendMessageRequest,
    examples: {
      text: { summary: 'Text to a number', value: { to: '+6281234567890', text: 'See you at 8?' } },
      reply: {
        summary: 'Reply in a stored chat, with a mention',
        value: { to: '3344', text: '@6281234567891 agreed', mentions: ['+6281234567891'], replyTo: '918273' },
      },
      location: { summary: 'Location', value: { to: '6281234567890@s.whatsapp.net', location: { latitude: -6.175392, longitude: 106.827153, name: 'Monas' } } },
      contact: { summary: 'Contact card', value: { to: '+6281234567890', contact: { name: 'Alice', phone: '+6281234567891' } } },
    },
  })
  @ApiExtension(MULTIPART_BODY_EXTENSION, {
    schema: {
      type: 'object',
      required: ['to', 'type', 'media'],
      description:
        "A file to send. The text fields come before the file part (`type` must: the file is checked against its kind's limits while it streams). Limits per kind: MEDIA_*_MAX_BYTES, MEDIA_*_TYPES (README, Configuration).",
      properties: {
        to: { type: 'string', pattern: SEND_TARGET.source, example: '+6281234567890', description: 'The recipient, as for a JSON send.' },
        type: {
          type: 'string',
          enum: [...MEDIA_KINDS],
          example: 'image',
          description: 'The kind of media: `voice` is a voice note (push-to-talk Opus audio).',
        },
        caption: { type: 'string', minLength: 1, maxLength: MAX_TEXT, example: 'The view from here', description: 'Images, videos and documents: a caption.' },
        fileName: {
          type: 'string',
          minLength: 1,
          maxLength: 255,
          example: 'invoice-0042.pdf',
          description: "Documents: the name the recipient sees (default: the part's file name).",
        },
        replyTo: {
          type: 'string',
          pattern: '^[1-9][0-9]{0,18}$',
          example: '918273',
          description: 'The `id` of a stored message of the same chat this one replies to.',
        },
        media: { type: 'string', format: 'binary', description: "The file, with its content type (the part's Content-Type header). Exactly one." },
      },
    },
    examples: {
      image: { summary: 'An image with a caption', value: { to: '+6281234567890', type: 'image', caption: 'The view from here', media: '(the JPEG file)' } },
    },
  })
  @ApiAcceptedResponse({
    type: SendMessageResponse,
    description: 'The stored message, status `pending`, and where it stands in the send queue.',
    example: {
      ...MESSAGE_EXAMPLE,
      key: { ...MESSAGE_EXAMPLE.key, id: '3EB0A1B2C3D4E5F60718293A', fromMe: true },
      senderJid: null,
      pushName: null,
      type: 'text',
      media: null,
      status: 'pending',
      reactions: [],
      queue: { position: 0, expectedSendAt: 1719662400000 },
    },
  })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found', 'conflict', 'payload_too_large', 'unsupported_media_type')
  send(
    @CurrentPrincipal() principal: Principal,
    @Param('session') session: string,
    @Body() body: unknown,
    @RequestBodyStream() stream: StreamedBody,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<SendMessageResponse> {
    if (isMultipartContentType(stream.contentType)) return this.sending.sendMedia(principal.orgId, session, stream, idempotencyKey);
    return this.sending.send(principal.orgId, session, SEND_BODY.transform(body), idempotencyKey);
  }

  @Get('chats/:chat/messages')
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'listMessages',
    summary: 'List messages',
    description: [
      "Returns a page of a chat's messages, newest first (by timestamp, then id), served from the gateway's **stored copy**.",
      'Page with `limit` and `cursor` as for List chats; `nextCursor` is `null` on the last page. Requires the `read` capability.',
      "**Errors** - `not_found` (404): the session is not the caller organization's, or the chat is not the session's (the same answer in every case).",
    ].join(' '),
  })
  @ApiParam(SESSION_PARAM)
  @ApiParam({ name: 'chat', type: 'string', example: '3344', description: 'The chat `id` that List chats returns (int64).' })
  @ApiOkResponse({ type: MessagePageResponse, description: 'A page of messages, newest first.', example: { data: [MESSAGE_EXAMPLE], nextCursor: null } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found')
  list(
    @CurrentPrincipal() principal: Principal,
    @Param('session') session: string,
    @Param('chat') chat: string,
    @Query(PageQueryPipe) page: MessagePageQuery,
  ): Promise<MessagePageResponse> {
    return this.messages.listForChat(principal.orgId, session, chat, page);
  }

  @Get('messages/:message')
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'getMessage',
    summary: 'Get a message',
    description:
      "Returns one stored message. Requires the `read` capability. **Errors** - `not_found` (404): no such message in a session of the caller's organization.",
  })
  @ApiParam(SESSION_PARAM)
  @ApiParam(MESSAGE_PARAM)
  @ApiOkResponse({ type: MessageResponse, description: 'The message.', example: MESSAGE_EXAMPLE })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found')
  get(@CurrentPrincipal() principal: Principal, @Param('session') session: string, @Param('message') message: string): Promise<MessageResponse> {
    return this.messages.get(principal.orgId, session, message);
  }

  @Get('messages/:message/media')
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'getMessageMedia',
    summary: 'Download message media',
    description: [
      "Streams the media of a message (image, video, audio, voice note, document, sticker), downloaded on demand from WhatsApp through the session's connection,",
      'with its content type and length. When WhatsApp no longer has the file, the phone is asked to upload it again. Requires the `read` capability.',
      "**Errors** - `not_found` (404): no such message in a session of the caller's organization, or the message has no media.",
      '- `conflict` (409): the session is not connected.',
    ].join(' '),
  })
  @ApiParam(SESSION_PARAM)
  @ApiParam(MESSAGE_PARAM)
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({
    description: "The media's bytes, with its content type (the message's mimetype) and length.",
    schema: { type: 'string', format: 'binary' },
    example: '(the file, e.g. a JPEG image)',
  })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found', 'conflict', 'unavailable')
  async media(@CurrentPrincipal() principal: Principal, @Param('session') session: string, @Param('message') message: string): Promise<StreamableFile> {
    const media = await this.messages.openMedia(principal.orgId, session, message);
    return new StreamableFile(media.stream, {
      type: media.mimetype,
      ...(media.size !== null ? { length: media.size } : {}),
      ...(media.fileName ? { disposition: `attachment; filename*=UTF-8''${encodeURIComponent(media.fileName)}` } : {}),
    });
  }
}
