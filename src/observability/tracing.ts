import { context, type Link, ROOT_CONTEXT, type Span, SpanKind, type SpanContext, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * Tracing through the OpenTelemetry API only. Without OTEL_EXPORTER_OTLP_ENDPOINT no SDK is
 * loaded (tracing-sdk.ts is required by main.ts only when it is set), the API hands out
 * non-recording spans, and every function here costs next to nothing.
 *
 * The outbox breaks the call stack between a save and its deliveries: the save's trace context
 * is stored on the event row as a W3C traceparent, and each delivery attempt starts its span
 * as a child of it, with a link to it too (a retry hours later is still found from the save).
 */

const tracer = () => trace.getTracer('cms-webhooks');

let tracingOn = false;

/** Set by tracing-sdk.ts as this thread's provider starts and stops. */
export function setTracingOn(on: boolean): void {
  tracingOn = on;
}

/**
 * Whether this thread records spans. Without tracing there is no attempt span to link to a
 * save, so the claim does not read the saves' trace context at all (src/delivery/queue.ts).
 */
export function isTracingOn(): boolean {
  return tracingOn;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A stored or received traceparent as a span context; undefined when it is not one (or all zeros). */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const match = value ? TRACEPARENT.exec(value) : null;
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined;
  return { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16), isRemote: true };
}

/** The active span's traceparent when it is recorded, to store with what it caused; else null. */
export function activeTraceparent(): string | null {
  const span = trace.getActiveSpan();
  if (!span || !span.isRecording()) return null;
  return formatTraceparent(span.spanContext());
}

/** The active span's trace id for log lines, when something is traced. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

/** Runs `fn` inside a new server span for one GraphQL operation; `end` closes it when the response is done. */
export function startOperationSpan(name: string): { span: Span; run<T>(fn: () => T): T } {
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes: { 'graphql.operation.name': name } });
  return { span, run: (fn) => context.with(trace.setSpan(context.active(), span), fn) };
}

/** Names the operation's span once the operation is known (the body's operationName may be absent). */
export function nameOperationSpan(operationName: string | undefined, operationType: string | undefined): void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  if (operationName) span.updateName(operationName);
  span.setAttributes({ 'graphql.operation.name': operationName ?? '', 'graphql.operation.type': operationType ?? '' });
}

export function markSpanFailed(span: Span | undefined, message: string): void {
  span?.setStatus({ code: SpanStatusCode.ERROR, message });
}

export interface AttemptSpanAttributes {
  webhookId: string;
  eventId: string;
  deliveryId?: string;
  attempt: number;
  trigger: string;
  kind: string;
  method: string;
  host: string;
}

/**
 * One delivery attempt's span. With the traceparent stored at the save, it continues that
 * trace (parent and link); without (a test send, a replay), it is a child of whatever is
 * active, such as the GraphQL operation that asked for it.
 */
export async function inAttemptSpan<T>(savedTraceparent: string | null | undefined, attributes: AttemptSpanAttributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const saved = parseTraceparent(savedTraceparent);
  const parent = saved ? trace.setSpanContext(ROOT_CONTEXT, saved) : context.active();
  const links: Link[] = saved ? [{ context: saved, attributes: { 'link.reason': 'saved by' } }] : [];
  return tracer().startActiveSpan(
    'webhook attempt',
    {
      kind: SpanKind.CLIENT,
      links,
      attributes: {
        'webhook.id': attributes.webhookId,
        'webhook.event_id': attributes.eventId,
        'webhook.delivery_id': attributes.deliveryId ?? '',
        'webhook.attempt': attributes.attempt,
        'webhook.trigger': attributes.trigger,
        'webhook.kind': attributes.kind,
        'http.request.method': attributes.method,
        // The host only: a webhook URL's path or query may be a credential (Slack-style).
        'server.address': attributes.host,
      },
    },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } finally {
        span.end();
      }
    },
  );
}

/** The traceparent a receiver continues from: this attempt's span, when it is recorded. */
export function traceparentOf(span: Span): string | undefined {
  return span.isRecording() ? formatTraceparent(span.spanContext()) : undefined;
}
