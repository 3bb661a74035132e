import type { WebhookCall } from './webhook-call.entity';
import { WebhookCallPubSub, MAX_BUFFERED_CALLS, parseNotification } from './webhook-call.pubsub';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const W1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const W2 = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

const call = (id: string, projectId = P1, webhookId = W1) => ({ id, projectId, webhookId }) as WebhookCall;
const pubsub = () => new WebhookCallPubSub({ connection: {}, load: async () => [] });

test('parses comma-separated project:webhook:id entries and skips anything else', () => {
  expect(parseNotification(`${P1}:${W1}:${P2}`)).toEqual([{ projectId: P1, webhookId: W1, id: P2 }]);
  expect(parseNotification(`${P1}:${W1}:${P2},${P2}:${W1}:${P1}`)).toEqual([
    { projectId: P1, webhookId: W1, id: P2 },
    { projectId: P2, webhookId: W1, id: P1 },
  ]);
  for (const bad of [undefined, '', `${P1}:${W1}`, `${P1}::${P2}`, `${P1}:${W1}:${P2}:x`]) expect(parseNotification(bad)).toEqual([]);
  expect(parseNotification(`${P1}:${W1},${P1}:${W1}:${P2}`)).toEqual([{ projectId: P1, webhookId: W1, id: P2 }]);
});

test('fans out to the subscribers of the project, filtered by webhook when asked', async () => {
  const ps = pubsub();
  const all = ps.subscribe(P1);
  const onlyW2 = ps.subscribe(P1, W2);
  const other = ps.subscribe(P2);
  ps.publish(P1, call('c1', P1, W1));
  ps.publish(P1, call('c2', P1, W2));
  expect((await all.next()).value.id).toBe('c1');
  expect((await all.next()).value.id).toBe('c2');
  expect((await onlyW2.next()).value.id).toBe('c2');
  ps.publish(P2, call('c3', P2, W1));
  expect((await other.next()).value.id).toBe('c3');
  expect(ps.stats().published).toBe(4);
});

test('return() ends a pending next() at once and unregisters; nothing stays behind', async () => {
  const ps = pubsub();
  const a = ps.subscribe(P1);
  const b = ps.subscribe(P1, W1);
  expect(ps.subscriberCount()).toBe(2);
  const pending = a.next();
  await a.return();
  await expect(pending).resolves.toEqual({ value: undefined, done: true });
  expect(ps.subscriberCount()).toBe(1);
  await b.return();
  await b.return(); // idempotent
  expect(ps.subscriberCount()).toBe(0);
  ps.publish(P1, call('late'));
  await expect(a.next()).resolves.toEqual({ value: undefined, done: true });
});

test('a reader that falls behind keeps the newest calls, bounded', async () => {
  const ps = pubsub();
  const slow = ps.subscribe(P1);
  for (let i = 0; i < MAX_BUFFERED_CALLS + 5; i++) ps.publish(P1, call(`c${i}`));
  expect((await slow.next()).value.id).toBe('c5');
});

test('stop() completes every stream', async () => {
  const ps = pubsub();
  const s = ps.subscribe(P1);
  const pending = s.next();
  await ps.stop();
  await expect(pending).resolves.toMatchObject({ done: true });
  expect(ps.subscriberCount()).toBe(0);
});

test('fail() rejects a waiting next() with the error, then the stream is done', async () => {
  const ps = pubsub();
  const s = ps.subscribe(P1);
  const ended = jest.fn();
  s.onEnd(ended);
  const pending = s.next();
  s.fail(new Error('no longer a member'));
  await expect(pending).rejects.toThrow('no longer a member');
  await expect(s.next()).resolves.toEqual({ value: undefined, done: true });
  expect(ps.subscriberCount()).toBe(0);
  expect(ended).toHaveBeenCalledTimes(1);
});

test('fail() drops what is buffered: nothing more reaches a subscriber who lost access', async () => {
  const ps = pubsub();
  const s = ps.subscribe(P1);
  ps.publish(P1, call('before'));
  s.fail(new Error('revoked'));
  ps.publish(P1, call('after'));
  await expect(s.next()).rejects.toThrow('revoked');
  await expect(s.next()).resolves.toEqual({ value: undefined, done: true });
  s.fail(new Error('again')); // once ended, nothing changes
  await expect(s.next()).resolves.toEqual({ value: undefined, done: true });
});

test('onEnd runs once however the stream ends, and at once for an ended one', async () => {
  const ps = pubsub();
  const s = ps.subscribe(P1);
  const ended = jest.fn();
  s.onEnd(ended);
  await s.return();
  await s.return();
  expect(ended).toHaveBeenCalledTimes(1);
  const late = jest.fn();
  s.onEnd(late);
  expect(late).toHaveBeenCalledTimes(1);
});
