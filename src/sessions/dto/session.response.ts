import { ApiProperty } from '@nestjs/swagger';
import { DESIRED_STATES, DISCONNECT_REASONS, effectiveStatus, SESSION_STATUSES } from '../session-status';
import type { DesiredState, DisconnectReasonName, SessionStatus } from '../session-status';
import type { SessionView } from '../session-view';
import { METADATA_EXAMPLE } from './session-metadata';
import { SendPacing } from './send-pacing';

export interface LastDisconnectResponse {
  reason: DisconnectReasonName;
  code: number | null;
  at: string;
}

export class SessionResponse {
  @ApiProperty({ example: '01J9ZX8K2QHV0M3T6R7P4N5W8C', description: 'The session id (a ULID).' })
  id: string;

  @ApiProperty({ example: 'Support line' })
  name: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: METADATA_EXAMPLE, description: 'Free-form JSON object kept with the session.' })
  metadata: Record<string, unknown>;

  @ApiProperty({
    enum: SESSION_STATUSES,
    example: 'connected',
    description:
      '`stopped`: not meant to be connected. `connecting`: meant to be connected and not yet (waiting for a replica, opening the socket, or backing off after a failure: see lastError and nextReconnectAt). `qr_required`: waiting for a phone to link by QR or pairing code. `connected`: linked and online. `logged_out`: unlinked, credentials wiped; start it to link again. `failed`: WhatsApp refused the session for good; see lastError.',
  })
  status: SessionStatus;

  @ApiProperty({ enum: DESIRED_STATES, example: 'running', description: 'Whether the gateway keeps the session connected (start/stop set it).' })
  desiredState: DesiredState;

  @ApiProperty({ type: 'string', nullable: true, example: '6281234567890@s.whatsapp.net', description: 'The linked phone, once linked.' })
  phoneJid: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'Alice', description: "The linked account's WhatsApp display (push) name, once known." })
  pushName: string | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: 'gateway-7c9f5d-0a1b2c',
    description: 'The gateway replica holding the connection right now; null when none does.',
  })
  heldBy: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: null, description: 'What went wrong last, for people; null after a successful connection.' })
  lastError: string | null;

  // Inline rather than a $ref: OpenAPI 3.0 ignores `nullable` next to a $ref.
  @ApiProperty({
    type: 'object',
    nullable: true,
    required: ['reason', 'code', 'at'],
    properties: {
      reason: { type: 'string', enum: [...DISCONNECT_REASONS], example: 'connectionLost', description: "Baileys' name for why the connection closed." },
      code: { type: 'integer', nullable: true, example: 408, description: 'The status code WhatsApp or the socket gave, when there was one.' },
      at: { type: 'string', format: 'date-time', example: '2025-06-29T12:00:00.000Z' },
    },
    description: 'Why the last connection closed; null when it never closed.',
  })
  lastDisconnect: LastDisconnectResponse | null;

  @ApiProperty({ type: 'integer', minimum: 0, example: 0, description: 'Failed connection attempts since the connection was last stable.' })
  reconnectAttempts: number;

  @ApiProperty({
    type: 'string',
    format: 'date-time',
    nullable: true,
    example: null,
    description: 'When the next attempt is due while backing off; null otherwise.',
  })
  nextReconnectAt: string | null;

  @ApiProperty({
    type: 'string',
    format: 'date-time',
    nullable: true,
    example: '2025-06-29T12:00:00.000Z',
    description: 'When the current (or last) connection opened.',
  })
  connectedAt: string | null;

  // Inline rather than a $ref: OpenAPI 3.0 ignores `nullable` next to a $ref.
  @ApiProperty({
    type: 'object',
    nullable: true,
    required: ['ratePerMinute', 'burst', 'jitterMs'],
    properties: {
      ratePerMinute: { type: 'integer', example: 10, description: 'Messages a minute the session sends at most once its burst is spent.' },
      burst: { type: 'integer', example: 3, description: 'Messages it may send back to back before the rate applies.' },
      jitterMs: { type: 'integer', example: 5000, description: 'Up to this many ms of random delay added after each message.' },
    },
    example: null,
    description: "The session's own send pacing (set with Update session); null: the configured defaults (SEND_RATE_PER_MINUTE, SEND_BURST, SEND_JITTER_MS).",
  })
  sendPacing: SendPacing | null;

  @ApiProperty({ type: 'string', format: 'date-time', example: '2025-06-29T11:58:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: 'string', format: 'date-time', example: '2025-06-29T12:00:00.000Z' })
  updatedAt: string;

  static fromView(view: SessionView): SessionResponse {
    return {
      id: view.id,
      name: view.name,
      metadata: view.metadata,
      status: effectiveStatus(view),
      desiredState: view.desiredState,
      phoneJid: view.phoneJid,
      pushName: view.pushName,
      heldBy: view.heldBy,
      lastError: view.lastError,
      lastDisconnect:
        view.lastDisconnectReason && view.lastDisconnectAt
          ? { reason: view.lastDisconnectReason, code: view.lastDisconnectCode, at: view.lastDisconnectAt.toISOString() }
          : null,
      reconnectAttempts: view.reconnectAttempts,
      // A backoff is only under way while a replica holds the session.
      nextReconnectAt: view.heldBy !== null && view.nextReconnectAt ? view.nextReconnectAt.toISOString() : null,
      connectedAt: view.connectedAt ? view.connectedAt.toISOString() : null,
      sendPacing: view.sendPacing ?? null,
      createdAt: view.createdAt.toISOString(),
      updatedAt: view.updatedAt.toISOString(),
    };
  }
}

export const SESSION_EXAMPLE: SessionResponse = {
  id: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
  name: 'Support line',
  metadata: METADATA_EXAMPLE,
  status: 'connected',
  desiredState: 'running',
  phoneJid: '6281234567890@s.whatsapp.net',
  pushName: 'Alice',
  heldBy: 'gateway-7c9f5d-0a1b2c',
  lastError: null,
  lastDisconnect: { reason: 'restartRequired', code: 515, at: '2025-06-29T11:59:58.000Z' },
  reconnectAttempts: 0,
  nextReconnectAt: null,
  connectedAt: '2025-06-29T12:00:00.000Z',
  sendPacing: null,
  createdAt: '2025-06-29T11:58:00.000Z',
  updatedAt: '2025-06-29T12:00:00.000Z',
};
