import { effectiveStatus, SESSION_STATUSES } from './session-status';
import type { DesiredState, SessionStatus } from './session-status';

const session = (status: SessionStatus, desiredState: DesiredState, heldBy: string | null) => ({ status, desiredState, heldBy });

describe('effectiveStatus', () => {
  it('shows the stored status while a replica holds the session', () => {
    for (const status of SESSION_STATUSES) expect(effectiveStatus(session(status, 'running', 'replica-a'))).toBe(status);
  });

  it('shows a live status of an unheld session as connecting when meant to run, else stopped', () => {
    for (const status of ['connecting', 'qr_required', 'connected'] as const) {
      expect(effectiveStatus(session(status, 'running', null))).toBe('connecting');
      expect(effectiveStatus(session(status, 'stopped', null))).toBe('stopped');
    }
  });

  it('keeps a final status of an unheld session', () => {
    for (const status of ['stopped', 'logged_out', 'failed'] as const) expect(effectiveStatus(session(status, 'running', null))).toBe(status);
  });
});
