/**
 * Reading the UET Conversions API's answer (microsoft-ads.md §8): 200 with
 * `eventsReceived`, 400 `ValidationError` with `details[]` by `index` (at most
 * 10, warnings included), 401 `Unauthorized`. The request goes with
 * `continueOnValidationError: true`, so a 200 may name invalid events too;
 * where those details travel in a 200 is not documented (UNCONFIRMED, §11.8):
 * `error.details` and a top-level `details` are both read. Pure.
 */
import { z } from 'zod';
import { parseRetryAfter, type HttpResponse } from '../../http.js';
import { clip, type Classified, type EventResult } from '../../outcomes.js';
import { ruleForHttpStatus, ruleTable, sharedRule, verdictFrom, type Verdict } from '../../retry-rules.js';
import { MICROSOFT_CAPI_RETRY_RULES } from './capi-retry-rules.js';

const rules = ruleTable(MICROSOFT_CAPI_RETRY_RULES);

const detailSchema = z.object({
  index: z.number().int().nullish(),
  propertyName: z.string().nullish(),
  errorMessage: z.string().nullish(),
  errorCode: z.string().nullish(),
  isWarning: z.boolean().nullish(),
});
const errorSchema = z.object({ code: z.string().nullish(), message: z.string().nullish(), details: z.array(detailSchema).nullish() });
const bodySchema = z.object({ eventsReceived: z.number().int().nullish(), error: errorSchema.nullish(), details: z.array(detailSchema).nullish() });

/** One detail of a ValidationError, as read. */
export interface CapiDetail {
  /** Position in `data`, from `index` or else from `propertyName` (`data[3].eventTime`). */
  index?: number;
  propertyName?: string;
  errorCode?: string;
  errorMessage?: string;
  warning: boolean;
}

/** What the answer's body says, `undefined` when it is not the Conversions API's JSON. */
export interface CapiAnswer {
  eventsReceived?: number;
  code?: string;
  message?: string;
  details: CapiDetail[];
}

/** Reads the body of an answer. */
export function readCapiAnswer(json: unknown): CapiAnswer | undefined {
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) return undefined;
  const b = parsed.data;
  const details = [...(b.error?.details ?? []), ...(b.details ?? [])].map((d): CapiDetail => {
    const out: CapiDetail = { warning: d.isWarning === true };
    const index = d.index ?? Number(/^data\[(\d+)\]/.exec(d.propertyName ?? '')?.[1] ?? Number.NaN);
    if (Number.isInteger(index)) out.index = index;
    if (d.propertyName) out.propertyName = d.propertyName;
    if (d.errorCode) out.errorCode = d.errorCode;
    if (d.errorMessage) out.errorMessage = d.errorMessage;
    return out;
  });
  const out: CapiAnswer = { details };
  if (b.eventsReceived !== undefined && b.eventsReceived !== null) out.eventsReceived = b.eventsReceived;
  if (b.error?.code) out.code = b.error.code;
  if (b.error?.message) out.message = b.error.message;
  return out;
}

/** The words of the audit message that name the path, so the sends and audit pages can tell it. */
export const CAPI_LABEL = 'UET Conversions API';

function describe(d: CapiDetail): string {
  return [d.propertyName, d.errorCode, d.errorMessage].filter((s) => s !== undefined && s !== '').join(' ');
}

/** Every message of this path starts with {@link CAPI_LABEL}, failures too, so the audit log tells the path. */
function labelled(text: string): string {
  return clip(`${CAPI_LABEL}: ${text}`) as string;
}

function errorDetails(errors: readonly CapiDetail[]): Omit<Verdict, 'kind' | 'reason'> {
  const first = errors[0];
  return { error_code: first?.errorCode ?? 'ValidationError', error_message: labelled(errors.map(describe).join('; ')) };
}

/**
 * Reads the answer to a request of `count` events: one result per event.
 * A warning (a field Microsoft dropped, e.g. an `em` that is no SHA-256) still
 * counts the event as received; it is named in the audit message.
 */
export function classifyCapiResponse(res: HttpResponse, count: number, now: Date): Classified {
  const base = { http_status: res.status };
  const answer = readCapiAnswer(res.json);
  const byIndex = new Map<number, CapiDetail[]>();
  for (const d of answer?.details ?? []) {
    if (d.index === undefined || d.index < 0 || d.index >= count) continue;
    byIndex.set(d.index, [...(byIndex.get(d.index) ?? []), d]);
  }
  const errorsOf = (i: number): CapiDetail[] => (byIndex.get(i) ?? []).filter((d) => !d.warning);
  const warningsOf = (i: number): CapiDetail[] => (byIndex.get(i) ?? []).filter((d) => d.warning);

  if (res.status >= 200 && res.status < 300) {
    if (answer === undefined) {
      return { verdict: { type: 'all', result: verdictFrom(sharedRule('bad_response'), { error_code: `HTTP ${res.status}` }) }, ...base };
    }
    const received = answer.eventsReceived !== undefined ? `, ${answer.eventsReceived} of the request's ${count} received` : '';
    const results = Array.from({ length: count }, (_, i): EventResult => {
      const errors = errorsOf(i);
      if (errors.length > 0) return verdictFrom(rules.get('microsoft:capi-validation'), errorDetails(errors));
      const warnings = warningsOf(i);
      const dropped = warnings.length === 0 ? '' : ` Warnings (field dropped by Microsoft): ${warnings.map(describe).join('; ')}.`;
      return {
        kind: 'sent',
        message: clip(`${CAPI_LABEL}: received by Microsoft (HTTP ${res.status}${received}); a resend of the same eventId counts once.${dropped}`) as string,
      };
    });
    return { verdict: { type: 'each', results }, ...base };
  }
  if (res.status === 400 && answer !== undefined && byIndex.size > 0) {
    // continueOnValidationError: a 400 means no event was valid; Microsoft names at most 10.
    const results = Array.from({ length: count }, (_, i): EventResult => {
      const errors = errorsOf(i);
      if (errors.length > 0) return verdictFrom(rules.get('microsoft:capi-validation'), errorDetails(errors));
      return verdictFrom(rules.get('microsoft:capi-not-named'), {
        error_code: answer.code ?? 'ValidationError',
        error_message: labelled('Microsoft stored none of the request and named only its first errors; this event goes again.'),
      });
    });
    return { verdict: { type: 'each', results }, ...base };
  }
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
  const details: Omit<Verdict, 'kind' | 'reason'> = { error_code: answer?.code ?? `HTTP ${res.status}` };
  const message = answer?.message ?? (res.text === '' ? undefined : res.text);
  details.error_message = labelled(message ?? `HTTP ${res.status}.`);
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  const rule =
    res.status === 401 ? rules.get('microsoft:capi-401')
    : res.status === 403 ? rules.get('microsoft:capi-403')
    : res.status >= 500 || res.status === 429 || res.status === 408 ? ruleForHttpStatus(res.status)
    : rules.get('microsoft:capi-request');
  if (res.status === 401) {
    details.error_message = labelled(
      `${message ?? 'Unauthorized.'} The UET tag's Conversions API token was refused: paste the tag's current token (Microsoft Advertising, UET tag, Copy Token) or fetch it again with Reconnect.`,
    );
  }
  return { verdict: { type: 'all', result: verdictFrom(rule, details) }, ...base };
}
