import { loadBaileys } from '../sync/baileys';
import { decideAfterClose, DISCONNECT_CODES, disconnectReasonName } from './disconnect-reason';

describe('disconnect reasons', () => {
  it("names every code of Baileys' DisconnectReason, and nothing else", async () => {
    const { DisconnectReason } = await loadBaileys();
    const baileysCodes = new Set(Object.values(DisconnectReason).filter((value): value is number => typeof value === 'number'));
    expect(new Set(Object.keys(DISCONNECT_CODES).map(Number))).toEqual(baileysCodes);
    for (const [name, code] of Object.entries(DisconnectReason)) {
      if (typeof code !== 'number') continue;
      // 408 carries two names in Baileys (connectionLost, timedOut).
      expect([name, code === 408 ? 'connectionLost' : name]).toContain(disconnectReasonName(code));
    }
  });

  it('calls codes without a name unknown', () => {
    expect(disconnectReasonName(null)).toBe('unknown');
    expect(disconnectReasonName(418)).toBe('unknown');
  });

  it.each([
    ['loggedOut', 'logged_out'],
    ['forbidden', 'failed'],
    ['multideviceMismatch', 'failed'],
    ['connectionReplaced', 'check_lease'],
    ['restartRequired', 'restart'],
    ['connectionClosed', 'reconnect'],
    ['connectionLost', 'reconnect'],
    ['badSession', 'reconnect'],
    ['unavailableService', 'reconnect'],
    ['unknown', 'reconnect'],
  ] as const)('%s -> %s', (reason, decision) => {
    expect(decideAfterClose(reason)).toBe(decision);
  });
});
