import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BinaryReader } from '@bufbuild/protobuf/wire';

/** What tests read of an exported span (opentelemetry-proto trace/v1 Span). */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  links: Array<{ traceId: string; spanId: string }>;
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (spans are posted to <endpoint>/v1/traces). */
  endpoint: string;
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

/** A stand-in OTLP/HTTP collector on loopback that keeps every span it is sent (protobuf only). */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const protobuf = request.headers['content-type'] === 'application/x-protobuf';
    if (request.method !== 'POST' || request.url !== '/v1/traces' || !protobuf) {
      response.writeHead(415).end();
      return;
    }
    try {
      spans.push(...decodeExportRequest(Buffer.concat(chunks)));
    } catch {
      response.writeHead(400).end();
      return;
    }
    // An empty ExportTraceServiceResponse.
    response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One length-delimited message's fields, in order: field number and reader positioned at it. */
function* fields(bytes: Uint8Array): Generator<[number, BinaryReader, number]> {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    yield [field, reader, wireType];
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 } */
export function decodeExportRequest(bytes: Uint8Array): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const [field, reader, wireType] of fields(bytes)) {
    if (field !== 1) {
      reader.skip(wireType);
      continue;
    }
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2 }
    let service = '';
    const scopes: Uint8Array[] = [];
    for (const [f, r, w] of fields(reader.bytes())) {
      if (f === 1) service = serviceName(r.bytes());
      else if (f === 2) scopes.push(r.bytes());
      else r.skip(w);
    }
    // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2 }
    for (const scope of scopes)
      for (const [f, r, w] of fields(scope)) {
        if (f === 2) spans.push({ service, ...decodeSpan(r.bytes()) });
        else r.skip(w);
      }
  }
  return spans;
}

/** Resource { repeated KeyValue attributes = 1 }, KeyValue { key = 1; AnyValue value = 2 } */
function serviceName(resource: Uint8Array): string {
  for (const [f, r, w] of fields(resource)) {
    if (f !== 1) {
      r.skip(w);
      continue;
    }
    let key = '';
    let value = '';
    for (const [kf, kr, kw] of fields(r.bytes())) {
      if (kf === 1) key = kr.string();
      else if (kf === 2) value = anyString(kr.bytes());
      else kr.skip(kw);
    }
    if (key === 'service.name') return value;
  }
  return '';
}

/** AnyValue { string string_value = 1; ... } */
function anyString(value: Uint8Array): string {
  for (const [f, r, w] of fields(value)) {
    if (f === 1) return r.string();
    r.skip(w);
  }
  return '';
}

/** Span { trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6, links 13 } */
function decodeSpan(bytes: Uint8Array): Omit<ReceivedSpan, 'service'> {
  const span: Omit<ReceivedSpan, 'service'> = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    name: '',
    kind: 0,
    links: [],
  };
  for (const [f, r, w] of fields(bytes)) {
    if (f === 1) span.traceId = hex(r.bytes());
    else if (f === 2) span.spanId = hex(r.bytes());
    else if (f === 3) span.traceState = r.string();
    else if (f === 4) span.parentSpanId = hex(r.bytes());
    else if (f === 5) span.name = r.string();
    else if (f === 6) span.kind = r.int32();
    else if (f === 13) {
      // Link { trace_id 1, span_id 2 }
      const link = { traceId: '', spanId: '' };
      for (const [lf, lr, lw] of fields(r.bytes())) {
        if (lf === 1) link.traceId = hex(lr.bytes());
        else if (lf === 2) link.spanId = hex(lr.bytes());
        else lr.skip(lw);
      }
      span.links.push(link);
    } else r.skip(w);
  }
  return span;
}
