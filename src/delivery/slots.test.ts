import type { ClaimedDelivery } from './delivery-row';
import { SlotPool } from './slots';

const delivery = (id: string, webhookId: string): ClaimedDelivery =>
  ({ id, webhookId, eventId: `e-${id}`, kind: 'EVENT', trigger: 'document_create', body: '{}', attempts: 0, webhook: { id: webhookId } }) as unknown as ClaimedDelivery;

test('runs at most the per-webhook cap and the capacity, and prefetches one round beyond', () => {
  const pool = new SlotPool(3, 2);
  expect(pool.claimRoom()).toBe(6);
  expect(pool.claimLimitPerWebhook).toBe(4);
  pool.add([delivery('a1', 'A'), delivery('a2', 'A'), delivery('a3', 'A'), delivery('b1', 'B'), delivery('b2', 'B')], 1_000);
  const { start, stale } = pool.take(0);
  // A's third waits for a slot of A; B gets the last slot of the three.
  expect(start.map((d) => d.id)).toEqual(['a1', 'a2', 'b1']);
  expect(stale).toEqual([]);
  expect(pool.runningCount).toBe(3);
  expect(pool.readyCount).toBe(2);
  expect(pool.claimRoom()).toBe(1);
  expect(Object.fromEntries(pool.held())).toEqual({ A: 3, B: 2 });
  expect(pool.heldIds().sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
});

test('a finished exchange frees its slot at once but keeps its lease until settled', () => {
  const pool = new SlotPool(2, 1);
  const [a1, a2] = [delivery('a1', 'A'), delivery('a2', 'A')];
  pool.add([a1, a2], 1_000);
  expect(pool.take(0).start).toEqual([a1]);
  pool.exchanged(a1);
  expect(pool.busy).toBe(true);
  expect(pool.heldIds()).toContain('a1');
  // A's slot is free: its next delivery starts while a1's outcome is written.
  expect(pool.take(0).start).toEqual([a2]);
  pool.settled('a1');
  expect(pool.heldIds()).toEqual(['a2']);
  pool.exchanged(a2);
  pool.settled('a2');
  expect(pool.busy).toBe(false);
  expect(pool.held().size).toBe(0);
  expect(pool.claimRoom()).toBe(4);
});

test('deliveries that waited too long are handed back instead of sent, and drainReady empties what never started', () => {
  const pool = new SlotPool(1, 1);
  pool.add([delivery('old', 'A')], 1_000);
  pool.add([delivery('new', 'B'), delivery('later', 'C')], 5_000);
  const { start, stale } = pool.take(2_000);
  expect(stale.map((d) => d.id)).toEqual(['old']);
  expect(start.map((d) => d.id)).toEqual(['new']);
  expect(pool.drainReady().map((d) => d.id)).toEqual(['later']);
  expect(Object.fromEntries(pool.held())).toEqual({ B: 1 });
});

test('plans what fan-out may lease within the room and per-webhook limits, reserving nothing', () => {
  const pool = new SlotPool(2, 1);
  pool.add([delivery('a1', 'A')], 1_000);
  // Room 3 (2 × 2 − 1); webhook A holds 1 of its 2.
  expect(pool.plan(['A', 'A', 'B', 'B', 'C'])).toEqual([true, false, true, true, false]);
  expect(pool.claimRoom()).toBe(3);
});
