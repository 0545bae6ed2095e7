/**
 * The request as every fake handler sees it: read and parsed once, so a batch
 * of 2,000 events is never parsed twice (the sender bench drains 100,000).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The body after one parse, by content type. */
export type ParsedBody =
  | { kind: 'empty' }
  | { kind: 'json'; value: unknown }
  | { kind: 'invalid-json'; error: string }
  | { kind: 'form'; fields: Record<string, string> }
  | { kind: 'text'; text: string };

/** A parsed request, path relative to its route prefix. */
export interface FakeHttpRequest {
  method: string;
  /** Path after the route prefix, e.g. `/v26.0/123/events`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Media type without parameters, lower case (`application/json`), or `''`. */
  contentType: string;
  body: ParsedBody;
}

/** An answer a handler returns; the server serialises it. */
export interface FakeAnswer {
  status: number;
  /** Sent as JSON unless a string; nothing is sent when `undefined`. */
  body: unknown;
  headers?: Record<string, string>;
  diagnostics?: string[];
}

/** The media type of a `Content-Type` header, lower case and without parameters. */
export function mediaType(header: string | undefined): string {
  if (header === undefined) return '';
  return (header.split(';', 1)[0] ?? '').trim().toLowerCase();
}

/** Parse a body once according to its media type. */
export function parseBody(raw: Buffer, contentType: string): ParsedBody {
  if (raw.length === 0) return { kind: 'empty' };
  const text = raw.toString('utf8');
  if (contentType === 'application/json' || contentType.endsWith('+json')) {
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown };
    } catch (error) {
      return { kind: 'invalid-json', error: error instanceof Error ? error.message : String(error) };
    }
  }
  if (contentType === 'application/x-www-form-urlencoded') {
    return { kind: 'form', fields: Object.fromEntries(new URLSearchParams(text)) };
  }
  return { kind: 'text', text };
}

/** The value logged for a parsed body. */
export function loggedBody(body: ParsedBody): unknown {
  switch (body.kind) {
    case 'empty':
      return undefined;
    case 'json':
      return body.value;
    case 'form':
      return body.fields;
    case 'invalid-json':
      return { invalidJson: body.error };
    case 'text':
      return body.text;
  }
}

/** A single header value (first of a repeated header), or `undefined`. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
