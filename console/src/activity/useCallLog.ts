import { useApolloClient } from '@apollo/client/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useLiveStatus } from '../api/context';
import { type CallRowFragment, ConsoleCallLoggedDocument, ConsoleWebhookCallsDocument, type WebhookTrigger } from '../generated/graphql';

export interface LogFilter {
  webhookId: string | null;
  success: boolean | null;
  trigger: WebhookTrigger | null;
}

export interface CallLog {
  rows: CallRowFragment[];
  hasMore: boolean;
  loading: boolean;
  error: unknown;
  /** Live rows held back while paused. */
  pending: number;
  paused: boolean;
  setPaused(paused: boolean): void;
  loadMore(): void;
}

const PAGE = 100;
/** How long after (re)subscribing the newest page is read again, to fill what the stream could not carry. */
const CATCH_UP_MS = 1000;

const newestFirst = (a: CallRowFragment, b: CallRowFragment) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1);

function matches(row: CallRowFragment, filter: LogFilter): boolean {
  return (
    (filter.webhookId == null || row.webhookId === filter.webhookId) &&
    (filter.success == null || row.success === filter.success) &&
    (filter.trigger == null || row.trigger === filter.trigger)
  );
}

/**
 * The log newest first: pages of older rows by keyset (`after` the last cursor), and calls
 * logged from now on at the top, from the webhookCallLogged subscription. The subscription
 * starts before the first page is read, so a call logged in between is in one or the other
 * (or both: rows are kept once, by id). The server does not say when a subscription is in
 * place, and calls logged while the WebSocket was down are not replayed (the log is the
 * record, the stream a live view), so a second later, and after each reconnect, the newest
 * page is read again and what is missing is merged in. Rows live here, not in Apollo's
 * cache: thousands of normalized log rows would only cost memory.
 */
export function useCallLog(projectId: string, filter: LogFilter): CallLog {
  const client = useApolloClient();
  const [rows, setRows] = useState<CallRowFragment[]>([]);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [paused, setPausedState] = useState(false);
  const [pending, setPending] = useState(0);
  const held = useRef<CallRowFragment[]>([]);
  const state = useRef({ generation: 0, cursor: null as string | null, ids: new Set<string>(), loading: false, hasMore: true, paused: false });
  const { webhookId, success, trigger } = filter;

  const addOnTop = useCallback((incoming: CallRowFragment[]) => {
    const fresh = incoming.filter((row) => !state.current.ids.has(row.id));
    if (fresh.length === 0) return;
    fresh.forEach((row) => state.current.ids.add(row.id));
    setRows((current) => [...fresh, ...current]);
  }, []);

  const live = useLiveStatus();

  const catchUp = useCallback(() => {
    const s = state.current;
    if (s.paused) return;
    const generation = s.generation;
    client
      .query({ query: ConsoleWebhookCallsDocument, variables: { projectId, filter: { webhookId, success, trigger }, first: PAGE }, fetchPolicy: 'no-cache' })
      .then(({ data }) => {
        if (generation !== s.generation || !data) return;
        const missing = data.webhookCalls.edges.map((e) => e.node).filter((row) => !s.ids.has(row.id));
        if (missing.length === 0) return;
        missing.forEach((row) => s.ids.add(row.id));
        setRows((current) => [...missing, ...current].sort(newestFirst));
      })
      .catch(() => undefined); // the next catch-up or page shows any lasting error
  }, [client, projectId, webhookId, success, trigger]);

  const loadMore = useCallback(() => {
    const s = state.current;
    if (s.loading || !s.hasMore) return;
    const generation = s.generation;
    s.loading = true;
    setLoading(true);
    client
      .query({
        query: ConsoleWebhookCallsDocument,
        variables: { projectId, filter: { webhookId, success, trigger }, first: PAGE, after: s.cursor },
        fetchPolicy: 'no-cache',
      })
      .then(
        ({ data }) => {
          if (generation !== s.generation || !data) return;
          const page = data.webhookCalls;
          const older = page.edges.map((e) => e.node).filter((row) => !s.ids.has(row.id));
          older.forEach((row) => s.ids.add(row.id));
          s.cursor = page.pageInfo.endCursor ?? s.cursor;
          s.hasMore = page.pageInfo.hasNextPage;
          setHasMore(s.hasMore);
          setRows((current) => [...current, ...older]);
        },
        (e: unknown) => {
          if (generation === s.generation) setError(e);
        },
      )
      .finally(() => {
        if (generation !== s.generation) return;
        s.loading = false;
        setLoading(false);
      });
  }, [client, projectId, webhookId, success, trigger]);

  useEffect(() => {
    const s = state.current;
    s.generation++;
    s.cursor = null;
    s.ids = new Set();
    s.loading = false;
    s.hasMore = true;
    setRows([]);
    held.current = [];
    setPending(0);
    setHasMore(true);
    setError(null);
    const current = { webhookId, success, trigger };
    const subscription = client.subscribe({ query: ConsoleCallLoggedDocument, variables: { projectId, webhookId }, fetchPolicy: 'no-cache' }).subscribe({
      next: (result) => {
        if (result.error) return setError(result.error);
        const row = result.data?.webhookCallLogged;
        if (!row || !matches(row, current)) return;
        if (s.paused) {
          held.current = [row, ...held.current];
          setPending(held.current.length);
        } else addOnTop([row]);
      },
      error: (e: unknown) => setError(e),
    });
    loadMore();
    const timer = setTimeout(catchUp, CATCH_UP_MS);
    return () => {
      clearTimeout(timer);
      subscription.unsubscribe();
    };
  }, [client, projectId, webhookId, success, trigger, loadMore, addOnTop, catchUp]);

  const wasDown = useRef(false);
  useEffect(() => {
    if (live === 'reconnecting') wasDown.current = true;
    if (live !== 'connected' || !wasDown.current) return;
    wasDown.current = false;
    const timer = setTimeout(catchUp, CATCH_UP_MS);
    return () => clearTimeout(timer);
  }, [live, catchUp]);

  const setPaused = useCallback(
    (next: boolean) => {
      state.current.paused = next;
      setPausedState(next);
      if (!next) {
        addOnTop(held.current);
        held.current = [];
        setPending(0);
        catchUp();
      }
    },
    [addOnTop, catchUp],
  );

  return { rows, hasMore, loading, error, pending, paused, setPaused, loadMore };
}
