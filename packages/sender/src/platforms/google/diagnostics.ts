/**
 * Google Data Manager diagnostics. Data Manager answers a batch with 200 before
 * it matches a click, so a `sent` in the audit log says only that Google took the
 * batch. The request id of each delivered batch is kept (the store's
 * `diagnostics`, written with the batch's audit rows); after each send pass the due ones are
 * checked with `requestStatus:retrieve`, 30 minutes after the 200 and then with
 * backoff until final (`nextStatusCheck`), and the result is kept: the final
 * status and the records per error reason (`PROCESSING_ERROR_REASON_INVALID_GCLID`…).
 * Counts are per request, not per event: Google does not say which events failed.
 */
import type { FetchLike } from '../../http.js';
import { sendHttp } from '../../http.js';
import { createTokenCache, type TokenCache } from '../../oauth.js';
import type { OutboxStore } from '../../outbox-store.js';
import { createTokenBucket } from '../../rate-limit.js';
import type { DiagnosticsState, DueDiagnostics, SendLogger, SendStore } from '../../runtime/store.js';
import type { DeliveryCheckContext, DeliveryCheckSpec, DeliveryChecks } from '../adapter.js';
import type { GoogleConnection } from './connection.js';
import { buildRequestStatusRequest, nextStatusCheck, readRequestStatus, type RequestStatusReading } from './data-manager-status.js';

/** What one round of checks did: `final` counts `UNAVAILABLE` and `GAVE_UP` too; `with_errors`, `PARTIAL_SUCCESS` and `FAILED`. */
export type GoogleStatusSummary = Awaited<ReturnType<DeliveryChecks['run']>>;

/** Options of {@link createGoogleStatusChecks}. */
export interface GoogleStatusOptions {
  store: Pick<SendStore, 'diagnostics'>;
  /** Reads the client's Google connection, secrets decrypted. */
  connections: Pick<OutboxStore, 'connection'>;
  tokenCache: TokenCache;
  fetch: FetchLike;
  urls: { dataManager: string };
  versions: { dataManager: string };
  now: () => Date;
  logger?: SendLogger;
  timeoutMs?: number;
  /** Requests checked per round at most. Defaults to `100`. */
  limit?: number;
}

/** The diagnostics checks of one database. */
export type GoogleStatusChecks = DeliveryChecks;

/** Creates the checks. Read calls have their own quota: 300 per minute per Cloud project (google-data-manager.md §7). */
export function createGoogleStatusChecks(options: GoogleStatusOptions): GoogleStatusChecks {
  const { store, now } = options;
  const limit = options.limit ?? 100;
  const budget = createTokenBucket({ now });

  /** One check: the reading, or why there is none. Refreshes the token once after a 401. */
  const check = async (row: DueDiagnostics): Promise<RequestStatusReading> => {
    try {
      const stored = await options.connections.connection(row.client_id, 'google');
      const conn = stored?.connection;
      if (conn?.platform !== 'google' || conn.api !== 'data-manager') {
        return { kind: 'unavailable', error: 'connection removed or no longer on Data Manager' };
      }
      // Its credentials were refused: checking now would only be refused again.
      if (stored?.status === 'paused') return { kind: 'retry', error: 'connection paused' };
      const creds = { client_id: conn.client_id, client_secret: conn.client_secret, refresh_token: conn.refresh_token };
      const ask = async (token: string): Promise<RequestStatusReading> => {
        const wait = budget.take();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const req = buildRequestStatusRequest(row.request_id, token, { baseUrl: options.urls.dataManager, version: options.versions.dataManager });
        return readRequestStatus(await sendHttp(options.fetch, req, options.timeoutMs));
      };
      const token = await options.tokenCache.getToken(creds);
      const reading = await ask(token);
      if (reading.kind !== 'auth') return reading;
      return await ask(await options.tokenCache.refresh(creds, token));
    } catch (error) {
      // An unreadable connection (its key left PRUUV_ENCRYPTION_KEY), a failed token refresh, a
      // timeout or a lost connection: checked again later.
      return { kind: 'retry', error: error instanceof Error ? error.message : String(error) };
    }
  };

  return {
    async run() {
      const summary: GoogleStatusSummary = { checked: 0, final: 0, with_errors: 0 };
      for (const row of await store.diagnostics.due(now(), limit)) {
        const reading = await check(row);
        const at = now();
        let status: DiagnosticsState = 'PENDING';
        let next: Date | undefined;
        let lastError: string | null = null;
        if (reading.kind === 'final') status = reading.status;
        else if (reading.kind === 'unavailable') {
          status = 'UNAVAILABLE';
          lastError = reading.error;
        } else {
          if (reading.kind !== 'processing') lastError = reading.error;
          next = nextStatusCheck(new Date(row.sent_at), row.checks + 1, at);
          if (next === undefined) status = 'GAVE_UP';
        }
        await store.diagnostics.record({
          request_id: row.request_id,
          status,
          next_check_at: next?.toISOString() ?? null,
          checked_at: at.toISOString(),
          records: reading.kind === 'final' ? (reading.records ?? null) : null,
          errors: reading.kind === 'final' ? reading.errors : null,
          warnings: reading.kind === 'final' ? reading.warnings : null,
          last_error: lastError,
        });
        summary.checked++;
        if (next === undefined) summary.final++;
        if (status === 'PARTIAL_SUCCESS' || status === 'FAILED') {
          summary.with_errors++;
          options.logger?.warn(
            { request_id: row.request_id, connection_id: row.connection_id, status, events: row.events, errors: reading.kind === 'final' ? reading.errors : [] },
            'google: records of a delivered batch failed',
          );
        } else if (status === 'UNAVAILABLE' || status === 'GAVE_UP') {
          options.logger?.warn({ request_id: row.request_id, connection_id: row.connection_id, status, error: lastError }, 'google: no diagnostics for a delivered batch');
        }
      }
      return summary;
    },
    nextDue() {
      return store.diagnostics.nextDue();
    },
  };
}

/** The Google adapter's delivery checks: delivered Data Manager batches (not Ads API, not validate-only). */
export const GOOGLE_DELIVERY_CHECKS: DeliveryCheckSpec<GoogleConnection> = {
  tracks: (connection) => connection.api === 'data-manager',
  // 30 minutes after the 200 (google-data-manager.md §6).
  firstCheck: (sentAt, now) => nextStatusCheck(sentAt, 0, now)!,
  create(context: DeliveryCheckContext) {
    const tokenUrl = context.urls['oauthToken'] ?? '';
    return createGoogleStatusChecks({
      store: context.store,
      connections: context.connections,
      // The pass's token cache: a token refreshed by a pass serves the checks after it, and back.
      tokenCache: context.shared.get('tokenCache', () =>
        createTokenCache({ fetch: context.fetch, tokenUrl, now: context.now, ...(context.timeoutMs !== undefined ? { timeoutMs: context.timeoutMs } : {}) }),
      ),
      fetch: context.fetch,
      urls: { dataManager: context.urls['dataManager'] ?? '' },
      versions: { dataManager: context.versions['dataManager'] ?? '' },
      now: context.now,
      ...(context.logger ? { logger: context.logger } : {}),
      ...(context.timeoutMs !== undefined ? { timeoutMs: context.timeoutMs } : {}),
    });
  },
};
