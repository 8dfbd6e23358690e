import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { SendPacing } from './dto/send-pacing';
import type { DesiredState, DisconnectReasonName, SessionStatus } from './session-status';

/** One attached WhatsApp number, owned by exactly one org. */
@Entity({ name: 'sessions' })
export class Session {
  /** ULID */
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'jsonb', default: {} })
  metadata: Record<string, unknown>;

  @Column({ type: 'text', default: 'stopped' })
  status: SessionStatus;

  /** The session's own send pacing; null: the configured defaults. */
  @Column({ name: 'send_pacing', type: 'jsonb', nullable: true })
  sendPacing: SendPacing | null;

  @Column({ name: 'desired_state', type: 'text', default: 'stopped' })
  desiredState: DesiredState;

  /** The linked phone, without device suffix: `6281234567890@s.whatsapp.net`. */
  @Column({ name: 'phone_jid', type: 'text', nullable: true })
  phoneJid: string | null;

  @Column({ name: 'push_name', type: 'text', nullable: true })
  pushName: string | null;

  /** The QR code WhatsApp issued last, while the session waits for a scan. */
  @Column({ name: 'qr_code', type: 'text', nullable: true })
  qrCode: string | null;

  @Column({ name: 'qr_issued_at', type: 'timestamptz', nullable: true })
  qrIssuedAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'last_disconnect_code', type: 'integer', nullable: true })
  lastDisconnectCode: number | null;

  @Column({ name: 'last_disconnect_reason', type: 'text', nullable: true })
  lastDisconnectReason: DisconnectReasonName | null;

  @Column({ name: 'last_disconnect_at', type: 'timestamptz', nullable: true })
  lastDisconnectAt: Date | null;

  /** Failed attempts since the connection was last stable. */
  @Column({ name: 'reconnect_attempts', type: 'integer', default: 0 })
  reconnectAttempts: number;

  @Column({ name: 'next_reconnect_at', type: 'timestamptz', nullable: true })
  nextReconnectAt: Date | null;

  @Column({ name: 'connected_at', type: 'timestamptz', nullable: true })
  connectedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
