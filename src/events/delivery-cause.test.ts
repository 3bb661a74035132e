import { parseDeliveryCause } from './delivery-cause';

const E = '9a1c2f4d-0000-4000-8000-000000000001';
const W = '9a1c2f4d-0000-4000-8000-000000000002';

describe('parseDeliveryCause', () => {
  it('no headers: no cause, nothing to log', () => {
    expect(parseDeliveryCause({})).toEqual({ cause: null, ignored: null });
  });

  it('webhook-id alone: the event, every webhook it went to', () => {
    expect(parseDeliveryCause({ 'webhook-id': E.toUpperCase() })).toEqual({ cause: { eventId: E, webhookId: null }, ignored: null });
  });

  it('webhook-id and webhook-origin: that webhook only', () => {
    expect(parseDeliveryCause({ 'webhook-id': E, 'webhook-origin': ` ${W} ` })).toEqual({ cause: { eventId: E, webhookId: W }, ignored: null });
  });

  it('a malformed webhook-id is ignored and says why', () => {
    for (const value of ['msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', '', [E, E]]) {
      const parsed = parseDeliveryCause({ 'webhook-id': value });
      expect(parsed.cause).toBeNull();
      expect(parsed.ignored).toMatch(/webhook-id/);
    }
  });

  it('a malformed webhook-origin falls back to the conservative rule', () => {
    expect(parseDeliveryCause({ 'webhook-id': E, 'webhook-origin': 'nope' })).toEqual({
      cause: { eventId: E, webhookId: null },
      ignored: expect.stringMatching(/webhook-origin/),
    });
  });

  it('webhook-origin without webhook-id is ignored', () => {
    expect(parseDeliveryCause({ 'webhook-origin': W })).toEqual({ cause: null, ignored: expect.stringMatching(/without webhook-id/) });
  });
});
