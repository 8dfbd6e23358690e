import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { formatSecret, newSigningKey, signedHeaders } from './webhook-signing';

describe('signedHeaders', () => {
  it('signs as the standardwebhooks package does, and that package verifies it with either secret of a rotation', () => {
    const bodies = [
      '{}',
      JSON.stringify({ data: { name: 'Zoë 👍 "quoted" \\ \n', big: 'x'.repeat(70_000) } }),
      JSON.stringify({ bytes: randomBytes(300).toString('latin1') }),
    ];
    for (const body of bodies) {
      const [current, previous] = [newSigningKey(), newSigningKey()];
      const timestamp = new Date(1719662400123);
      const headers = signedHeaders([current, previous], '0000000000000004211', timestamp, body);
      const [first, second] = headers['webhook-signature'].split(' ');
      expect(first).toBe(new Webhook(current, { format: 'raw' }).sign('0000000000000004211', timestamp, body));
      expect(second).toBe(new Webhook(previous, { format: 'raw' }).sign('0000000000000004211', timestamp, body));
      expect(headers['webhook-timestamp']).toBe('1719662400');
      const now = jest.spyOn(Date, 'now').mockReturnValue(timestamp.getTime());
      try {
        for (const key of [current, previous]) expect(new Webhook(formatSecret(key)).verify(body, headers)).toBeDefined();
        expect(() => new Webhook(formatSecret(newSigningKey())).verify(body, headers)).toThrow();
      } finally {
        now.mockRestore();
      }
    }
  });
});
