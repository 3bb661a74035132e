import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useRef } from 'react';
import { formatDuration, formatShortTime, formatTime } from '../common/format';
import type { CallRowFragment } from '../generated/graphql';
import { Link, navigate } from '../router';
import { triggerLabel } from '../webhooks/triggers';

const ROW_HEIGHT = 36;
const COLUMNS = ['Time', 'Webhook', 'Trigger', 'Kind', 'Attempt', 'Status', 'Duration', 'Result', 'Next retry', 'Details'];

/**
 * The log as an ARIA table whose rows are virtualised: only the rows in view (and a few
 * around) are in the DOM, so 5,000 loaded rows scroll like 50. aria-rowcount and
 * aria-rowindex tell assistive technology where the visible rows sit in the whole.
 */
export function CallTable(props: {
  rows: CallRowFragment[];
  webhookName: (id: string) => string;
  detailsPath: (callId: string) => string;
  hasMore: boolean;
  loading: boolean;
  onNearEnd: () => void;
}) {
  const { rows, hasMore, loading, onNearEnd } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = virtualizer.getVirtualItems();

  // Rows logged while the reader is scrolled down push the list down by as much, so what they read stays put.
  const firstId = useRef<string | null>(null);
  useLayoutEffect(() => {
    const el = scroller.current;
    const previous = firstId.current;
    firstId.current = rows[0]?.id ?? null;
    if (!el || !previous || el.scrollTop === 0) return;
    const added = rows.findIndex((r) => r.id === previous);
    if (added > 0) el.scrollTop += added * ROW_HEIGHT;
  }, [rows]);

  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    if (hasMore && !loading && rows.length > 0 && last >= rows.length - 20) onNearEnd();
  }, [last, rows.length, hasMore, loading, onNearEnd]);

  return (
    <div role="table" aria-label="Activity log" aria-rowcount={rows.length + 1} className="log">
      <div role="rowgroup" className="log-head">
        <div role="row" aria-rowindex={1} className="log-row">
          {COLUMNS.map((c) => (
            <div role="columnheader" key={c} className={`cell c-${c.toLowerCase().replace(/\s/g, '-')}`}>
              {c}
            </div>
          ))}
        </div>
      </div>
      <div ref={scroller} className="log-body" tabIndex={-1}>
        <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const row = rows[item.index];
            const path = props.detailsPath(row.id);
            return (
              <div
                role="row"
                key={row.id}
                aria-rowindex={item.index + 2}
                data-call-id={row.id}
                className={`log-row ${row.success ? '' : 'failed'}`}
                style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
                onClick={(e) => (e.target as HTMLElement).closest('a') || navigate(path)}
              >
                <div role="cell" className="cell c-time" title={formatTime(row.createdAt)}>
                  <time dateTime={row.createdAt}>{formatShortTime(row.createdAt)}</time>
                </div>
                <div role="cell" className="cell c-webhook">
                  {props.webhookName(row.webhookId)}
                </div>
                <div role="cell" className="cell c-trigger">
                  {triggerLabel(row.trigger)}
                </div>
                <div role="cell" className="cell c-kind">
                  <span className={`kind kind-${row.kind.toLowerCase()}`}>{row.kind}</span>
                </div>
                <div role="cell" className="cell c-attempt">
                  {row.attempt}
                </div>
                <div role="cell" className="cell c-status">
                  {row.responseStatusCode ?? '–'}
                </div>
                <div role="cell" className="cell c-duration">
                  {formatDuration(row.durationMs)}
                </div>
                <div role="cell" className={`cell c-result ${row.success ? 'ok' : 'bad'}`} title={row.error ?? undefined}>
                  {row.success ? 'Succeeded' : (row.error ?? 'Failed')}
                </div>
                <div role="cell" className="cell c-next-retry">
                  {row.nextRetryAt ? formatShortTime(row.nextRetryAt) : ''}
                </div>
                <div role="cell" className="cell c-details">
                  <Link to={path}>View details</Link>
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
