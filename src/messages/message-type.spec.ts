import { furthestStatus, MESSAGE_STATUSES } from './message-type';
import type { MessageStatus } from './message-type';

describe('message status ordering', () => {
  it('moves only forward: pending -> sent -> delivered -> read -> played', () => {
    const forward: MessageStatus[] = ['pending', 'sent', 'delivered', 'read', 'played'];
    for (let i = 0; i < forward.length; i++) {
      for (let j = 0; j < forward.length; j++) expect(furthestStatus(forward[i], forward[j])).toBe(forward[Math.max(i, j)]);
    }
  });

  it('fails only from pending, and a later acknowledgement beats a failure', () => {
    expect(furthestStatus('pending', 'failed')).toBe('failed');
    for (const acknowledged of ['sent', 'delivered', 'read', 'played'] as const) {
      expect(furthestStatus(acknowledged, 'failed')).toBe(acknowledged);
      expect(furthestStatus('failed', acknowledged)).toBe(acknowledged);
    }
    expect(furthestStatus('failed', 'pending')).toBe('failed');
  });

  it('the first status of a message is whatever arrives', () => {
    for (const status of MESSAGE_STATUSES) expect(furthestStatus(null, status)).toBe(status);
  });
});
