import { useQuery } from '@apollo/client/react';
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { WebhookStatsDocument } from '../generated/graphql';
import { Chart, COLORS } from './Chart';
import type { StatsRange } from './ranges';

/** Calls per day of one webhook over 30 days, in a table cell; the numbers are in the cell beside it. */
export default function Sparkline({ webhookId, range, name }: { webhookId: string; range: StatsRange; name: string }) {
  const { data } = useQuery(WebhookStatsDocument, { variables: { webhookId, ...range }, fetchPolicy: 'cache-first' });
  const options = useMemo<Omit<uPlot.Options, 'width'>>(
    () => ({
      height: 28,
      cursor: { show: false },
      legend: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      axes: [{ show: false }, { show: false }],
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [{}, { stroke: COLORS.succeeded, width: 1.5, points: { show: false } }, { stroke: COLORS.failed, width: 1.5, points: { show: false } }],
      padding: [2, 0, 2, 0],
    }),
    [],
  );
  const series = useMemo<uPlot.AlignedData>(() => {
    const buckets = data?.webhookStats.buckets ?? [];
    return [buckets.map((b) => Date.parse(b.start) / 1000), buckets.map((b) => b.succeeded), buckets.map((b) => b.failed)];
  }, [data]);
  if (!data) return <span className="sparkline placeholder" aria-hidden="true" />;
  const total = data.webhookStats.succeeded + data.webhookStats.failed;
  return (
    <figure className="sparkline" role="img" aria-label={`${name}: calls per day over 30 days, ${total} in all`}>
      <Chart options={options} data={series} />
    </figure>
  );
}
