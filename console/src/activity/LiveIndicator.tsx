import { useLiveStatus } from '../api/context';

/** Whether new calls arrive by themselves right now, in words and a dot. */
export function LiveIndicator({ paused, pending, onToggle }: { paused: boolean; pending: number; onToggle: () => void }) {
  const status = useLiveStatus();
  const text = paused
    ? `Paused${pending > 0 ? `: ${pending} new call${pending === 1 ? '' : 's'} held back` : ''}`
    : status === 'connected'
      ? 'Live: new calls appear at the top'
      : status === 'reconnecting'
        ? 'Reconnecting…'
        : 'Connecting…';
  const state = paused ? 'paused' : status === 'connected' ? 'live' : 'waiting';
  return (
    <div className="live">
      <span role="status" className={`live-status ${state}`} data-state={state}>
        <span className="dot" aria-hidden="true" />
        {text}
      </span>
      <button type="button" className="secondary" aria-pressed={paused} onClick={onToggle}>
        {paused ? 'Resume' : 'Pause'}
      </button>
    </div>
  );
}
