import {
  listGoogleStatus,
  listSends,
  type GoogleRequestStatus,
  type GoogleStatusFilter,
  type SendAttempt,
  type SendFilter,
} from '../domain/send-lists.js';
import type { Store } from '../store/types.js';
import { clip, emit, table, type CliOutput } from './output.js';

/**
 * `pruuv sends list [--status S] [--platform P] [--client ID] [--event ID] [--limit N]`: the
 * conversion audit log, newest first (one record per attempt of one event on one platform).
 * JSON: `{ sends }`, the same as `GET /api/admin/sends`.
 */
export async function sendsList(store: Store, filter: SendFilter, output: CliOutput): Promise<SendAttempt[]> {
  const sends = await listSends(store, filter);
  emit(output, { sends }, () =>
    sends.length === 0
      ? 'No sends yet. Conversions go out at the next scheduled pass, or now with `pruuv send`.'
      : table(
          ['TIME', 'PLATFORM', 'STATUS', 'EVENT', 'HTTP', 'CODE', 'TRY', 'NEXT ATTEMPT', 'DETAIL'],
          sends.map((s) => [
            s.attempted_at,
            s.platform,
            `${s.status}${s.dry_run ? ' (dry run)' : ''}`,
            s.event_id,
            s.http_status === null ? '' : String(s.http_status),
            s.error_code ?? '',
            String(s.retry_count + 1),
            s.next_attempt_at ?? '',
            clip([s.reason, s.error_message ?? s.message].filter((x) => x !== null && x !== '').join(': '), 80),
          ]),
        ),
  );
  return sends;
}

/**
 * `pruuv sends google-status [--status S] [--client ID] [--limit N]`: the Google Data Manager
 * requests delivered and what Google's diagnostics say of them (records per error reason), newest
 * first. JSON: `{ requests }`, the same as `GET /api/admin/google-status`.
 */
export async function sendsGoogleStatus(store: Store, filter: GoogleStatusFilter, output: CliOutput): Promise<GoogleRequestStatus[]> {
  const requests = await listGoogleStatus(store, filter);
  emit(output, { requests }, () =>
    requests.length === 0
      ? 'No Google Data Manager requests yet. Their diagnostics are checked from 30 minutes after each batch is sent.'
      : table(
          ['SENT', 'REQUEST', 'EVENTS', 'STATUS', 'CHECKS', 'NEXT CHECK', 'DETAIL'],
          requests.map((r) => [
            r.sent_at,
            r.request_id,
            String(r.events),
            r.status,
            String(r.checks),
            r.next_check_at ?? '',
            clip(
              r.errors.length > 0 ? r.errors.map((e) => `${e.reason} ×${e.count}`).join(', ') : (r.last_error ?? ''),
              80,
            ),
          ]),
        ),
  );
  return requests;
}
