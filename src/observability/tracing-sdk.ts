import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import type { Logger } from './logger';
import { setTracingOn } from './tracing';

/**
 * The OpenTelemetry SDK, loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set (main.ts, and the
 * delivery thread, which needs a provider of its own: globals are per thread). Spans go in
 * batches over OTLP/HTTP to `${endpoint}/v1/traces`.
 *
 * pg is instrumented by patching the module this process already loaded, rather than through
 * require hooks: it works whatever was imported first, and under the test runner too. Only
 * statements inside a traced operation or attempt get a span (requireParentSpan), so the
 * worker's polls and claims do not flood the exporter.
 */

export interface TracingSettings {
  endpoint: string;
  serviceName: string;
}

let provider: NodeTracerProvider | undefined;

export function startTracing(settings: TracingSettings, log: Logger, testing?: { exporter: SpanExporter }): NodeTracerProvider {
  if (provider) return provider;
  let processor: SpanProcessor;
  if (testing) {
    processor = new SimpleSpanProcessor(testing.exporter);
  } else {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${settings.endpoint}/v1/traces` }));
  }
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [processor],
  });
  // The async-hooks context manager and the W3C propagators, process (thread) wide.
  provider.register();
  // The SDK's own trouble (a collector that refuses or is down) in our log, not lost.
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const say = (level: 'error' | 'warn') => (message: string, ...args: unknown[]) => log[level]({ details: args.map(String).join(' ').slice(0, 500) }, `tracing: ${message}`);
  api.diag.setLogger({ error: say('error'), warn: say('warn'), info: () => undefined, debug: () => undefined, verbose: () => undefined }, api.DiagLogLevel.WARN);
  const pg = new PgInstrumentation({ enabled: false, requireParentSpan: true });
  pg.setTracerProvider(provider);
  setTracingOn(true);
  for (const definition of pg.getModuleDefinitions()) {
    if (definition.name === 'pg') definition.patch?.(require('pg'));
  }
  log.info({ endpoint: settings.endpoint, serviceName: settings.serviceName }, `tracing: spans go to ${settings.endpoint}/v1/traces`);
  return provider;
}

/** Sends what is buffered; called on stop so the last spans are not lost. */
export async function stopTracing(): Promise<void> {
  if (!provider) return;
  await provider.shutdown();
  provider = undefined;
  setTracingOn(false);
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  api.trace.disable();
  api.context.disable();
  api.propagation.disable();
  api.diag.disable();
}
