import type { DataSource } from 'typeorm';
import { Receiver, ReceivedRequest, Reply, startReceiver } from '../support/receiver';

/**
 * A receiver for FIFO checks: it counts requests in flight (the most at once is what a FIFO
 * webhook promises to keep at 1), answers each after `holdMs` so an overlap would show, and
 * fails the requests `fail` picks.
 */
export interface OrderedReceiver {
  receiver: Receiver;
  maxInFlight(): number;
  /** Document ids in arrival order, one per request (retries repeat). */
  arrivals(): string[];
  close(): Promise<void>;
}

export const documentIdOf = (r: ReceivedRequest): string => JSON.parse(r.body).metadata.document_id as string;

/** `fail(documentId, attemptsOfItSoFar)` true answers 500. */
export async function startOrderedReceiver(fail: (documentId: string, earlier: number) => boolean = () => false, holdMs = 5): Promise<OrderedReceiver> {
  let inFlight = 0;
  let max = 0;
  const seen = new Map<string, number>();
  const receiver = await startReceiver(async (request): Promise<Reply> => {
    inFlight += 1;
    max = Math.max(max, inFlight);
    const id = documentIdOf(request);
    const earlier = seen.get(id) ?? 0;
    seen.set(id, earlier + 1);
    // A slow endpoint: a second request sent while this one is open would overlap it.
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    inFlight -= 1;
    return { status: fail(id, earlier) ? 500 : 204 };
  });
  return { receiver, maxInFlight: () => max, arrivals: () => receiver.requests.map(documentIdOf), close: () => receiver.close() };
}

/** Consecutive repeats (retries of one delivery) collapsed into one. */
export function collapseRetries(ids: readonly string[]): string[] {
  return ids.filter((id, i) => i === 0 || ids[i - 1] !== id);
}

/** The project's document ids in event order: the position (tx_id, seq) of their DOCUMENT_CREATE events. */
export async function documentsInEventOrder(db: DataSource, projectId: string, blueprintId: string): Promise<string[]> {
  const rows: Array<{ id: string }> = await db.query(
    `SELECT metadata->>'document_id' AS id FROM domain_event
      WHERE project_id = $1 AND trigger = 'document_create' AND blueprint_id = $2 ORDER BY tx_id, seq`,
    [projectId, blueprintId],
  );
  return rows.map((r) => r.id);
}
