/**
 * Data Manager diagnostics: `GET /v1/requestStatus:retrieve?requestId=…`
 * (google-data-manager.md §3, §6). Data Manager answers an `events:ingest` with
 * 200 before it matches a single click; whether the conversions matched (or
 * failed as `PROCESSING_ERROR_REASON_INVALID_GCLID`, `…_CLICK_NOT_FOUND`…)
 * is reported only here, per request and per destination, as counts per
 * reason. Google asks clients to wait 30 minutes after the 200, then to poll
 * with exponential backoff until every destination is final. Pure: building
 * the request, reading the answer, and the polling schedule.
 */
import { z } from 'zod';
import { DATA_MANAGER_API_VERSION, DATA_MANAGER_BASE_URL } from './data-manager.js';
import type { HttpRequest, HttpResponse } from '../../http.js';

/** The first check of a request's status comes this long after its 200 (google-data-manager.md §6). */
export const DATA_MANAGER_FIRST_STATUS_CHECK_MS = 30 * 60_000;
/** Longest wait between two checks of one request. */
export const DATA_MANAGER_MAX_STATUS_INTERVAL_MS = 6 * 60 * 60_000;
/** A request still not final this long after its 200 is given up on (its status stays unknown). */
export const DATA_MANAGER_STATUS_GIVE_UP_MS = 7 * 24 * 60 * 60_000;

/** A final status of a request (one destination per request, as Pruuv sends them). */
export type RequestStatus = 'SUCCESS' | 'PARTIAL_SUCCESS' | 'FAILED' | 'REQUEST_STATUS_UNKNOWN';

/** How many records one reason covered: `{ reason: "PROCESSING_ERROR_REASON_INVALID_GCLID", count: 2 }`. */
export interface ReasonCount {
  reason: string;
  count: number;
}

/** What a `requestStatus:retrieve` answer says. */
export type RequestStatusReading =
  /** Final: the request's status, the records ingested, and the counts per error and warning reason. */
  | { kind: 'final'; status: RequestStatus; records?: number; errors: ReasonCount[]; warnings: ReasonCount[] }
  /** Not final yet: check again later. */
  | { kind: 'processing' }
  /** The token was refused (401): refresh it and check again. */
  | { kind: 'auth'; error: string }
  /** Quota, a server error or an unreadable answer: check again later. */
  | { kind: 'retry'; error: string }
  /** No status will ever come (`INVALID_REQUEST_ID`, permission denied…): stop checking. */
  | { kind: 'unavailable'; error: string };

/** `GET {baseUrl}/{version}/requestStatus:retrieve?requestId=…`, with the bearer token only (google-data-manager.md §6). */
export function buildRequestStatusRequest(
  requestId: string,
  accessToken: string,
  options: { baseUrl?: string; version?: string } = {},
): HttpRequest {
  const base = (options.baseUrl ?? DATA_MANAGER_BASE_URL).replace(/\/+$/, '');
  const version = options.version ?? DATA_MANAGER_API_VERSION;
  return {
    method: 'GET',
    url: `${base}/${version}/requestStatus:retrieve?requestId=${encodeURIComponent(requestId)}`,
    headers: { authorization: `Bearer ${accessToken}` },
  };
}

// Int64 counts are JSON strings (google-data-manager.md §6); numbers are accepted too.
const count = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(Number);
const reasonCounts = z.array(z.object({ reason: z.string(), recordCount: count })).optional();
const statusSchema = z.object({
  requestStatusPerDestination: z
    .array(
      z.object({
        requestStatus: z.enum(['SUCCESS', 'PROCESSING', 'FAILED', 'PARTIAL_SUCCESS', 'REQUEST_STATUS_UNKNOWN']),
        errorInfo: z.object({ errorCounts: reasonCounts }).optional(),
        warningInfo: z.object({ warningCounts: reasonCounts }).optional(),
        eventsIngestionStatus: z.object({ recordCount: count.optional() }).optional(),
      }),
    )
    .min(1),
});
const rpcErrorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    status: z.string().optional(),
    message: z.string().optional(),
    details: z
      .array(z.object({ fieldViolations: z.array(z.object({ reason: z.string().optional() })).optional() }).passthrough())
      .optional(),
  }),
});

function addCounts(into: Map<string, number>, counts: readonly { reason: string; recordCount: number }[] | undefined): void {
  for (const c of counts ?? []) into.set(c.reason, (into.get(c.reason) ?? 0) + c.recordCount);
}

function asList(counts: Map<string, number>): ReasonCount[] {
  return [...counts].map(([reason, n]) => ({ reason, count: n })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** The status of several destinations as one: any still processing → processing; all alike → that; else partial. */
function combine(statuses: readonly string[]): RequestStatus | 'PROCESSING' {
  if (statuses.includes('PROCESSING')) return 'PROCESSING';
  const distinct = new Set(statuses);
  if (distinct.size === 1) return statuses[0] as RequestStatus;
  if (distinct.has('REQUEST_STATUS_UNKNOWN')) return 'REQUEST_STATUS_UNKNOWN';
  return 'PARTIAL_SUCCESS';
}

/** Reads a `requestStatus:retrieve` answer (google-data-manager.md §6). */
export function readRequestStatus(res: HttpResponse): RequestStatusReading {
  if (res.status === 200) {
    const parsed = statusSchema.safeParse(res.json);
    if (!parsed.success) return { kind: 'retry', error: 'unreadable requestStatus answer' };
    const destinations = parsed.data.requestStatusPerDestination;
    const status = combine(destinations.map((d) => d.requestStatus));
    if (status === 'PROCESSING') return { kind: 'processing' };
    const errors = new Map<string, number>();
    const warnings = new Map<string, number>();
    let records: number | undefined;
    for (const d of destinations) {
      addCounts(errors, d.errorInfo?.errorCounts);
      addCounts(warnings, d.warningInfo?.warningCounts);
      const n = d.eventsIngestionStatus?.recordCount;
      if (n !== undefined) records = (records ?? 0) + n;
    }
    return { kind: 'final', status, ...(records !== undefined ? { records } : {}), errors: asList(errors), warnings: asList(warnings) };
  }
  const rpc = rpcErrorSchema.safeParse(res.json);
  const canonical = rpc.success ? rpc.data.error.status : undefined;
  const reason = rpc.success
    ? rpc.data.error.details?.flatMap((d) => d.fieldViolations ?? []).find((v) => v.reason !== undefined)?.reason
    : undefined;
  const error = [`HTTP ${res.status}`, canonical, reason].filter((s) => s !== undefined).join(' ');
  if (res.status === 401) return { kind: 'auth', error };
  if (res.status === 429 || res.status >= 500) return { kind: 'retry', error };
  return { kind: 'unavailable', error };
}

/**
 * When to check a request next, after `checks` checks that found it not final:
 * 30 minutes after its 200, then after waits that double from 30 minutes up to
 * 6 hours. `undefined` once the next check would come more than 7 days after the 200.
 */
export function nextStatusCheck(sentAt: Date, checks: number, now: Date): Date | undefined {
  const first = sentAt.getTime() + DATA_MANAGER_FIRST_STATUS_CHECK_MS;
  const wait = Math.min(DATA_MANAGER_FIRST_STATUS_CHECK_MS * 2 ** Math.max(0, checks - 1), DATA_MANAGER_MAX_STATUS_INTERVAL_MS);
  const at = checks === 0 ? first : Math.max(first, now.getTime() + wait);
  return at - sentAt.getTime() > DATA_MANAGER_STATUS_GIVE_UP_MS ? undefined : new Date(at);
}
