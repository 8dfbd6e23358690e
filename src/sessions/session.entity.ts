import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { SessionStatus } from './session-status';

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

  @Column({ type: 'text', default: 'stopped' })
  status: SessionStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
