import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A uPlot chart sized to its container. uPlot draws on a canvas (a few kB, fast with
 * thousands of points) and sets sizes through the CSSOM, which the Content-Security-Policy
 * allows (it forbids style attributes in markup, not element.style).
 */
export function Chart({ options, data, className }: { options: Omit<uPlot.Options, 'width'>; data: uPlot.AlignedData; className?: string }) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = container.current!;
    const chart = new uPlot({ ...options, width: Math.max(el.clientWidth, 100) } as uPlot.Options, data, el);
    plot.current = chart;
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(el.clientWidth, 100), height: options.height }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // A new chart when the options change; data updates go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [options]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={container} className={className} />;
}

export const COLORS = { succeeded: '#1a7f37', failed: '#cf222e', p50: '#0969da', p95: '#8250df' };
