import { AppError, ErrorCode } from '../common/app-error';
import { WebhookTrigger } from '../webhooks/triggers';
import { EventPosition, EventStream, FeedEvent, isAfter, MAX_BUFFERED_EVENTS } from './event-feed';

/** One subscriber's stream without a database: replay pages come from a list, live events are pushed. */
const at = (seq: number): EventPosition => ({ txId: '100', seq: String(seq) });

function event(seq: number, trigger = WebhookTrigger.DOCUMENT_CREATE): FeedEvent {
  return {
    id: `event-${seq}`,
    projectId: 'p',
    trigger,
    blueprintId: null,
    metadata: { blueprint_id: '', document_id: '', document_status_id: null, created_at: '' },
    createdAt: new Date(0),
    position: at(seq),
    actorTokenId: null,
    causeEventId: null,
    causalDepth: 0,
  };
}

/** The stored events 1..stored, served two per page as the feed's readRange serves them. */
function storedEvents(stored: number) {
  const reads: Array<{ after: string; until: string }> = [];
  const read = async (range: { after: EventPosition; until: EventPosition }) => {
    reads.push({ after: range.after.seq, until: range.until.seq });
    const all = Array.from({ length: stored }, (_, i) => event(i + 1));
    return all.filter((e) => Number(e.position.seq) > Number(range.after.seq) && Number(e.position.seq) <= Number(range.until.seq)).slice(0, 2);
  };
  return { read, reads };
}

const ids = async (stream: EventStream, count: number) => {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(((await stream.next()).value as FeedEvent).id);
  return out;
};

test('replays from after up to the boundary, page by page, then hands on what was pushed meanwhile', async () => {
  const { read, reads } = storedEvents(5);
  const stream = new EventStream('p', () => true, at(1), at(5), read, () => undefined);
  stream.push(event(6));
  stream.push(event(7));
  expect(await ids(stream, 6)).toEqual(['event-2', 'event-3', 'event-4', 'event-5', 'event-6', 'event-7']);
  expect(reads).toEqual([
    { after: '1', until: '5' },
    { after: '3', until: '5' },
    { after: '5', until: '5' },
  ]);
  const pending = stream.next();
  stream.push(event(8));
  expect((await pending).value).toMatchObject({ id: 'event-8' });
});

test('without after, nothing is replayed; only what it wants passes', async () => {
  const { read, reads } = storedEvents(5);
  const stream = new EventStream('p', (e) => e.trigger === WebhookTrigger.DOCUMENT_UPDATE, undefined, at(5), read, () => undefined);
  stream.push(event(6));
  stream.push(event(7, WebhookTrigger.DOCUMENT_UPDATE));
  expect(await ids(stream, 1)).toEqual(['event-7']);
  expect(reads).toEqual([]);
});

test('an after beyond the boundary: nothing replayed, and nothing up to it handed on', async () => {
  const { read, reads } = storedEvents(5);
  const stream = new EventStream('p', () => true, at(7), at(5), read, () => undefined);
  for (const seq of [6, 7, 8]) stream.push(event(seq));
  expect(await ids(stream, 1)).toEqual(['event-8']);
  expect(reads).toEqual([{ after: '7', until: '5' }]);
});

test('positions order by transaction id, then sequence, as 64-bit numbers', () => {
  expect(isAfter({ txId: '10', seq: '1' }, { txId: '9', seq: '99' })).toBe(true);
  expect(isAfter({ txId: '9', seq: '100' }, { txId: '9', seq: '99' })).toBe(true);
  expect(isAfter({ txId: '9', seq: '99' }, { txId: '9', seq: '99' })).toBe(false);
  expect(isAfter({ txId: '9007199254740993', seq: '1' }, { txId: '9007199254740992', seq: '1' })).toBe(true);
});

test('a subscriber that falls too far behind is dropped with a "try again" error, and unregistered', async () => {
  let closed = 0;
  const stream = new EventStream('p', () => true, undefined, at(0), storedEvents(0).read, () => closed++);
  for (let i = 1; i <= MAX_BUFFERED_EVENTS + 1; i++) stream.push(event(i));
  expect(closed).toBe(1);
  const error = await stream.next().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code: ErrorCode.SERVICE_UNAVAILABLE, message: expect.stringContaining('subscribe again with after') });
});

test('return() ends a waiting next() at once and unregisters the stream', async () => {
  let closed = 0;
  const stream = new EventStream('p', () => true, undefined, at(0), storedEvents(0).read, () => closed++);
  const waiting = stream.next();
  await stream.return();
  expect(await waiting).toEqual({ value: undefined, done: true });
  expect(closed).toBe(1);
  stream.push(event(1));
  expect(await stream.next()).toEqual({ value: undefined, done: true });
});
