import { connectorRefusalToApiError, SessionConnectorError } from '../../sessions/session-connector';
import { failedAnswer, refusalAnswer, refusalError } from './holder-commands';

describe('holder command answers across a rolling deploy', () => {
  const refusal = new SessionConnectorError('not_waiting_for_link', 'the session is not waiting for a link', 'connected');

  it('a refusal read back by this release is the same typed refusal', () => {
    const answer = JSON.parse(JSON.stringify(refusalAnswer(refusal)));
    const error = refusalError(answer, 'pairing_code', 'S1');
    expect(error).toBeInstanceOf(SessionConnectorError);
    expect(error).toMatchObject({ reason: 'not_waiting_for_link', message: refusal.message, status: 'connected' });
  });

  it('a refusal carries the API error the previous release raises from code, message and details', () => {
    const answer = refusalAnswer(refusal);
    const api = connectorRefusalToApiError(refusal);
    expect({ code: answer.code, message: answer.message, details: answer.details }).toEqual({ code: api.code, message: api.message, details: api.details });
  });

  it.each([
    ['conflict', { status: 'connected' }],
    ['unavailable', {}],
  ])("the previous release's %s answer becomes a refusal with the same API error", (code, details) => {
    const error = refusalError({ ok: false, code, message: 'as the old holder said', details }, 'stop', 'S1');
    expect(error).toBeInstanceOf(SessionConnectorError);
    const api = connectorRefusalToApiError(error as SessionConnectorError);
    expect({ code: api.code, message: api.message, details: api.details }).toEqual({ code, message: 'as the old holder said', details });
  });

  it('an unexpected failure, in either form, is not a refusal', () => {
    expect(refusalError(failedAnswer(), 'logout', 'S1')).not.toBeInstanceOf(SessionConnectorError);
    expect(refusalError({ ok: false, code: 'internal', message: 'internal error' }, 'logout', 'S1')).not.toBeInstanceOf(SessionConnectorError);
  });
});
