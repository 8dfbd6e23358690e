import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { Session } from './session.entity';
import { newSessionId, normalizeSessionId } from './session-id';

@Injectable()
export class SessionsService {
  constructor(@InjectRepository(Session) private readonly sessions: Repository<Session>) {}

  /**
   * The ownership rule: a session id that is malformed, unknown, or owned by another org all give
   * the same 404, so a caller can never learn whether another org's session exists.
   */
  async requireOwnedSessionId(orgId: string, rawSessionId: string): Promise<string> {
    const id = normalizeSessionId(rawSessionId);
    const owned = id !== undefined && (await this.sessions.exists({ where: { id, orgId } }));
    if (!owned) throw AppError.notFound('session');
    return id;
  }

  async create(orgId: string, name: string): Promise<Session> {
    return this.sessions.save(this.sessions.create({ id: newSessionId(), orgId, name, status: 'stopped' }));
  }
}
