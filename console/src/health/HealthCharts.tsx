import { useQuery } from '@apollo/client/react';
import { useMemo, useState } from 'react';
import uPlot from 'uplot';
import { ErrorNotice } from '../common/ErrorNotice';
import { formatDuration } from '../common/format';
import { type WebhookStatsQuery, WebhookStatsDocument } from '../generated/graphql';
import { Chart, COLORS } from './Chart';
import { lastDays, lastHours, type StatsRange } from './ranges';

type Stats = WebhookStatsQuery['webhookStats'];

const bars = uPlot.paths.bars!;

function callsOptions(hourly: boolean): Omit<uPlot.Options, 'width'> {
  return {
    height: 160,
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    axes: [{}, { label: 'calls', size: 50 }],
    series: [
      { value: (_u, v) => (v == null ? '' : new Date(v * 1000).toLocaleString(undefined, hourly ? { hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short' })) },
      { label: 'Succeeded', stroke: COLORS.succeeded, fill: `${COLORS.succeeded}cc`, paths: bars({ size: [0.4, 24], align: -1 }), points: { show: false } },
      { label: 'Failed', stroke: COLORS.failed, fill: `${COLORS.failed}cc`, paths: bars({ size: [0.4, 24], align: 1 }), points: { show: false } },
    ],
  };
}

function durationOptions(): Omit<uPlot.Options, 'width'> {
  return {
    height: 160,
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(10, max)] } },
    axes: [{}, { label: 'ms', size: 50 }],
    series: [
      {},
      { label: 'p50', stroke: COLORS.p50, width: 2, spanGaps: false },
      { label: 'p95', stroke: COLORS.p95, width: 2, dash: [6, 3], spanGaps: false },
    ],
  };
}

function Summary({ stats }: { stats: Stats }) {
  return (
    <p className="summary">
      <span className="ok">{stats.succeeded} succeeded</span>, <span className="bad">{stats.failed} failed</span>; p50{' '}
      {stats.p50DurationMs == null ? '–' : `≤ ${formatDuration(stats.p50DurationMs)}`}, p95 {stats.p95DurationMs == null ? '–' : `≤ ${formatDuration(stats.p95DurationMs)}`}
    </p>
  );
}

function Period({ webhookId, range, title, hourly }: { webhookId: string; range: StatsRange; title: string; hourly: boolean }) {
  const { data, error } = useQuery(WebhookStatsDocument, { variables: { webhookId, ...range } });
  const calls = useMemo(() => callsOptions(hourly), [hourly]);
  const durations = useMemo(durationOptions, []);
  const series = useMemo(() => {
    const buckets = data?.webhookStats.buckets ?? [];
    const x = buckets.map((b) => Date.parse(b.start) / 1000);
    return {
      // An empty bucket draws no bar rather than a hairline at zero.
      calls: [x, buckets.map((b) => b.succeeded || null), buckets.map((b) => b.failed || null)] as uPlot.AlignedData,
      durations: [x, buckets.map((b) => b.p50DurationMs), buckets.map((b) => b.p95DurationMs)] as uPlot.AlignedData,
    };
  }, [data]);
  const headingId = `health-${hourly ? 'hours' : 'days'}`;
  return (
    <section className="period" aria-labelledby={headingId}>
      <h3 id={headingId}>{title}</h3>
      <ErrorNotice error={error} />
      {!data && !error && <p className="loading">Loading…</p>}
      {data && (
        <>
          <Summary stats={data.webhookStats} />
          <figure role="img" aria-label={`Calls per ${hourly ? 'hour' : 'day'}, ${title.toLowerCase()}: succeeded and failed`} className="chart">
            <Chart options={calls} data={series.calls} />
          </figure>
          <figure role="img" aria-label={`Duration per ${hourly ? 'hour' : 'day'}, ${title.toLowerCase()}: p50 and p95`} className="chart">
            <Chart options={durations} data={series.durations} />
          </figure>
          <details>
            <summary>Show as a table</summary>
            <table className="data">
              <caption className="visually-hidden">{title}</caption>
              <thead>
                <tr>
                  <th scope="col">{hourly ? 'Hour' : 'Day'} (starting)</th>
                  <th scope="col">Succeeded</th>
                  <th scope="col">Failed</th>
                  <th scope="col">p50</th>
                  <th scope="col">p95</th>
                </tr>
              </thead>
              <tbody>
                {data.webhookStats.buckets.map((b) => (
                  <tr key={b.start}>
                    <td>{new Date(b.start).toLocaleString()}</td>
                    <td>{b.succeeded}</td>
                    <td>{b.failed}</td>
                    <td>{formatDuration(b.p50DurationMs)}</td>
                    <td>{formatDuration(b.p95DurationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}

/** Calls and durations of one webhook: per hour over 24 hours, per day over 30 days. */
export default function HealthCharts({ webhookId }: { webhookId: string }) {
  const [ranges] = useState(() => ({ hours: lastHours(), days: lastDays() }));
  return (
    <div className="health">
      <p className="help">
        Durations are approximate: each is an upper estimate within a factor of about 1.4 (the server keeps a histogram per hour).
      </p>
      <Period webhookId={webhookId} range={ranges.hours} title="Last 24 hours" hourly />
      <Period webhookId={webhookId} range={ranges.days} title="Last 30 days" hourly={false} />
    </div>
  );
}
