import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { RequireCapability } from '../auth/require-capability.decorator';
import { ApiErrorResponses } from '../common/errors/api-error-responses.decorator';
import { PageQueryPipe } from '../common/pagination/page-query';
import { ValidatedBodyPipe } from '../common/validation/validated-body.pipe';
import { CreateSessionRequest } from './dto/create-session.request';
import { PairingCodeRequest } from './dto/pairing-code.request';
import { PairingCodeResponse } from './dto/pairing-code.response';
import { SESSION_DETAIL_EXAMPLE, SessionDetailResponse } from './dto/session-detail.response';
import { SessionPageQuery } from './dto/session-page.query';
import { SessionPageResponse } from './dto/session-page.response';
import { SessionQrResponse } from './dto/session-qr.response';
import { SESSION_EXAMPLE, SessionResponse } from './dto/session.response';
import { UpdateSessionRequest } from './dto/update-session.request';
import { SessionsService } from './sessions.service';

const SessionParam = () =>
  ApiParam({
    name: 'session',
    type: 'string',
    example: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
    description: "The session id. The session must be owned by the caller's organization or the request fails with not_found.",
  });

const STOPPED_EXAMPLE: SessionResponse = {
  ...SESSION_EXAMPLE,
  status: 'stopped',
  desiredState: 'stopped',
  heldBy: null,
  connectedAt: '2025-06-29T12:00:00.000Z',
};
const CONNECTING_EXAMPLE: SessionResponse = {
  ...SESSION_EXAMPLE,
  status: 'connecting',
  phoneJid: null,
  pushName: null,
  lastDisconnect: null,
  connectedAt: null,
};
const LOGGED_OUT_EXAMPLE: SessionResponse = {
  ...SESSION_EXAMPLE,
  status: 'logged_out',
  desiredState: 'stopped',
  heldBy: null,
  lastDisconnect: { reason: 'loggedOut', code: 401, at: '2025-06-29T12:30:00.000Z' },
};

@ApiTags('Sessions')
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'createSession',
    summary: 'Create a session',
    description:
      'Registers a WhatsApp number for the organization and, unless `start` is false, starts connecting it: poll `GET /sessions/{id}` until the status is `qr_required`, then fetch the QR code or request a pairing code.',
  })
  @ApiBody({
    type: CreateSessionRequest,
    examples: {
      minimal: { summary: 'Create and connect', value: { name: 'Support line' } },
      full: { summary: 'With metadata, not started', value: { name: 'Support line', metadata: { crmAccountId: 'acc_4711' }, start: false } },
    },
  })
  @ApiCreatedResponse({ type: SessionResponse, description: 'The new session.', example: CONNECTING_EXAMPLE })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'quota_exceeded')
  createSession(
    @CurrentPrincipal() principal: Principal,
    @Body(new ValidatedBodyPipe(CreateSessionRequest)) body: CreateSessionRequest,
  ): Promise<SessionResponse> {
    return this.sessions.createForApi(principal.orgId, body);
  }

  @Get()
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'listSessions',
    summary: 'List sessions',
    description:
      "The organization's sessions in creation order. Page through them with `limit` and `cursor` exactly as with List chats: send `nextCursor` back as `cursor`; null means there is no further page.",
  })
  @ApiOkResponse({ type: SessionPageResponse, description: 'A page of sessions.', example: { data: [SESSION_EXAMPLE], nextCursor: null } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden')
  listSessions(@CurrentPrincipal() principal: Principal, @Query(PageQueryPipe) page: SessionPageQuery): Promise<SessionPageResponse> {
    return this.sessions.list(principal.orgId, page);
  }

  @Get(':session')
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'getSession',
    summary: 'Get a session',
    description:
      'One session: its status, the linked phone and push name once linked, the replica holding it, timestamps, the last error, and how far the stored copy of its chats has synced (`sync`).',
  })
  @SessionParam()
  @ApiOkResponse({ type: SessionDetailResponse, description: 'The session.', example: SESSION_DETAIL_EXAMPLE })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found')
  getSession(@CurrentPrincipal() principal: Principal, @Param('session') session: string): Promise<SessionDetailResponse> {
    return this.sessions.get(principal.orgId, session);
  }

  @Patch(':session')
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'updateSession',
    summary: 'Rename a session, replace its metadata or set its send pacing',
    description: 'Give any of `name`, `metadata`, `sendPacing` (docs/sending.md, "Pacing"). Requires the `manage` capability.',
  })
  @SessionParam()
  @ApiBody({
    type: UpdateSessionRequest,
    examples: {
      rename: { summary: 'Rename', value: { name: 'Sales line' } },
      metadata: { summary: 'Replace metadata', value: { metadata: { crmAccountId: 'acc_4712', team: 'sales' } } },
      sendPacing: { summary: "Set the session's send pacing", value: { sendPacing: { ratePerMinute: 10, burst: 3, jitterMs: 5000 } } },
      defaultPacing: { summary: 'Back to the default send pacing', value: { sendPacing: null } },
    },
  })
  @ApiOkResponse({ type: SessionResponse, description: 'The updated session.', example: { ...SESSION_EXAMPLE, name: 'Sales line' } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found')
  updateSession(
    @CurrentPrincipal() principal: Principal,
    @Param('session') session: string,
    @Body(new ValidatedBodyPipe(UpdateSessionRequest)) body: UpdateSessionRequest,
  ): Promise<SessionResponse> {
    return this.sessions.update(principal.orgId, session, body);
  }

  @Post(':session/start')
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'startSession',
    summary: 'Start (connect) a session',
    description:
      'Marks the session to be kept connected; a replica with room connects it. A linked session reconnects with its stored credentials; an unlinked one waits for a QR scan. Starting a running session changes nothing.',
  })
  @SessionParam()
  @ApiOkResponse({ type: SessionResponse, description: 'The session, usually `connecting` at this point.', example: CONNECTING_EXAMPLE })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found', 'quota_exceeded')
  startSession(@CurrentPrincipal() principal: Principal, @Param('session') session: string): Promise<SessionResponse> {
    return this.sessions.start(principal.orgId, session);
  }

  @Post(':session/stop')
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'stopSession',
    summary: 'Stop (disconnect) a session',
    description: 'Closes the connection and keeps the link: start it again later without a new QR scan.',
  })
  @SessionParam()
  @ApiOkResponse({ type: SessionResponse, description: 'The stopped session.', example: STOPPED_EXAMPLE })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found', 'unavailable')
  stopSession(@CurrentPrincipal() principal: Principal, @Param('session') session: string): Promise<SessionResponse> {
    return this.sessions.stop(principal.orgId, session);
  }

  @Post(':session/logout')
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'logoutSession',
    summary: 'Log a session out (unlink the phone)',
    description:
      "Logs out of WhatsApp (the device disappears from the phone's Linked devices) and wipes the stored credentials. The session stays, `logged_out`; start it to link a phone again. `conflict` (409): another operation on the session (a start, stop or delete) is in progress; retry. When the session is not connected at that moment only the credentials are wiped, and the phone keeps listing the device until it is removed there.",
  })
  @SessionParam()
  @ApiOkResponse({ type: SessionResponse, description: 'The logged-out session.', example: LOGGED_OUT_EXAMPLE })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found', 'conflict', 'unavailable')
  logoutSession(@CurrentPrincipal() principal: Principal, @Param('session') session: string): Promise<SessionResponse> {
    return this.sessions.logout(principal.orgId, session);
  }

  @Delete(':session')
  @HttpCode(204)
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'deleteSession',
    summary: 'Delete a session',
    description: 'Logs the session out, then removes it with everything the gateway stored for it (credentials, chats).',
  })
  @SessionParam()
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found')
  deleteSession(@CurrentPrincipal() principal: Principal, @Param('session') session: string): Promise<void> {
    return this.sessions.delete(principal.orgId, session);
  }

  @Get(':session/qr')
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'getSessionQr',
    summary: 'Get the current QR code',
    description:
      'While the session is `qr_required`: the QR code to scan with WhatsApp on the phone (Linked devices > Link a device), as the raw payload and as a PNG. WhatsApp replaces the code every 20 seconds or so; fetch it again. Any other status is 409 `conflict`.',
  })
  @SessionParam()
  @ApiOkResponse({
    type: SessionQrResponse,
    description: 'The current QR code.',
    example: {
      qr: '2@Qm9ndXNSZWY=,dGhpc2lzbm90YXJlYWxrZXk=,aWRlbnRpdHk=,YWR2c2VjcmV0',
      image: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA...',
      issuedAt: '2025-06-29T12:00:00.000Z',
    },
  })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found', 'conflict')
  getSessionQr(@CurrentPrincipal() principal: Principal, @Param('session') session: string): Promise<SessionQrResponse> {
    return this.sessions.currentQr(principal.orgId, session);
  }

  @Post(':session/pairing-code')
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'requestPairingCode',
    summary: 'Link by phone number (pairing code)',
    description:
      'The alternative to scanning the QR code: while the session is `qr_required`, asks WhatsApp for an 8-character code for this phone number; type it on the phone (Linked devices > Link a device > Link with phone number instead). Any other status is 409 `conflict`.',
  })
  @SessionParam()
  @ApiBody({ type: PairingCodeRequest, examples: { phone: { summary: 'An Indonesian number', value: { phoneNumber: '6281234567890' } } } })
  @ApiOkResponse({ type: PairingCodeResponse, description: 'The code to type on the phone.', example: { pairingCode: 'ABCD1234' } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found', 'conflict', 'unavailable')
  requestPairingCode(
    @CurrentPrincipal() principal: Principal,
    @Param('session') session: string,
    @Body(new ValidatedBodyPipe(PairingCodeRequest)) body: PairingCodeRequest,
  ): Promise<PairingCodeResponse> {
    return this.sessions.requestPairingCode(principal.orgId, session, body.phoneNumber);
  }
}
