import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ChatType } from './chat-type';

const bigintAsNumber = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** The gateway's stored copy of one WhatsApp chat of one session. Times are ms since the epoch. */
@Entity({ name: 'chats' })
export class Chat {
  /** int64, as the string pg returns for bigint. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ name: 'session_id', type: 'text' })
  sessionId: string;

  @Column({ type: 'text' })
  jid: string;

  @Column({ type: 'text' })
  type: ChatType;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ name: 'pinned_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  pinnedAt: number | null;

  @Column({ type: 'boolean', default: false })
  archived: boolean;

  @Column({ name: 'muted_until', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  mutedUntil: number | null;

  @Column({ name: 'last_message_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastMessageAt: number | null;

  @Column({ name: 'unread_count', type: 'integer', default: 0 })
  unreadCount: number;

  /** WhatsApp's "mark as unread" flag, kept apart from the count. */
  @Column({ name: 'marked_unread', type: 'boolean', default: false })
  markedUnread: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
