/**
 * Public API of `@pruuv/collector`: build the app (`createApp`), open storage
 * (`openStore`, or the engines' own `openSqliteStore`), run the whole server
 * (`loadConfig` + `startServer`) or the send runtime alone (`startWorker`), or
 * send conversions (`createSender`, `createConnections`, `listSends`). The send
 * runtime itself (passes, schedule, diagnostics) is `@pruuv/sender`'s, over
 * the store through `createSendStore`. For operators: health checks
 * (`createReadiness`, `handleHealth`), metrics (`createMetrics`) and SQLite
 * backups (`backupSqlite`, `restoreSqlite`).
 */
export { createApp } from './http/app.js';
export { openStore, StoreOpenError } from './store/open.js';
export { openSqliteStore, createSqliteStore, openDb } from './store/sqlite/index.js';
export { loadConfig, ConfigError, LOG_LEVELS } from './config.js';
export { CENSOR, createLogger, redactSecrets, REDACTED_KEYS, requestLogger } from './logger.js';
export { startServer, ServerStartError } from './http/server.js';
export { OperationError } from './domain/operations.js';
export { CollectorError, InvalidInputError, MigrationError, SchemaTooNewError, StorageUnavailableError } from './errors.js';
export { createSender } from './send/sender.js';
export { createSendStore } from './send/send-store.js';
export { startWorker, WorkerStartError } from './send/worker.js';
export { createConnections } from './domain/connections.js';
export { listSends, listGoogleStatus } from './domain/send-lists.js';
export { readKeyRing, EncryptionKeyError } from './send/secrets.js';
export { createBeaconLimits, DEFAULT_BEACON_LIMITS } from './domain/beacon-limits.js';
export { BEACON_SIGNALS, HOLD_REASONS, holdReason } from './domain/beacon-signals.js';
export { createBeaconReport } from './http/beacon-report.js';
export { createReadiness, handleHealth } from './ops/health.js';
export { createMetrics, BEACON_DROP_REASONS } from './ops/metrics.js';
export { DEFAULT_OPS_CONFIG } from './ops/ops-config.js';
export { backupSqlite, restoreSqlite, verifySqliteCopy, BackupError } from './store/sqlite/backup.js';

export type { AppOptions } from './http/app.js';
export type { BeaconLimits, BeaconLimitSettings, BeaconVerdict, ThrottleScope } from './domain/beacon-limits.js';
export type { BeaconHeaders, BeaconSignal, HoldReason } from './domain/beacon-signals.js';
export type { BeaconReport } from './http/beacon-report.js';
export type { StoreTarget, OpenStoreOptions } from './store/open.js';
export type { Db, SqliteStore, SqliteStoreOptions } from './store/sqlite/index.js';
export type {
  Client,
  Stage,
  StoredEvent,
  Store,
  SendAttempt,
  GoogleRequestState,
  GoogleRequestStatus,
  HeldCount,
  ReleaseFilter,
  ThrottleCount,
  MonitorStore,
  StoreGauges,
  StoreReadiness,
} from './store/types.js';
export type { Readiness, ReadinessOptions, ReadyState, NotReadyReason } from './ops/health.js';
export type { Metrics, MetricsOptions, BeaconOutcome } from './ops/metrics.js';
export type { OpsConfig } from './ops/ops-config.js';
export type { BackupReport, RestoreReport, CopyCheck } from './store/sqlite/backup.js';
export type { Config, LogLevel } from './config.js';
export type { LoggerOptions, Logger } from './logger.js';
export type { RunningServer, StartServerOptions } from './http/server.js';
export type { Sender, SenderOptions } from './send/sender.js';
export type { RunningWorker, StartWorkerOptions } from './send/worker.js';
export type { SendMode } from './send/runtime.js';
export type { Connections, ConnectionInput, ConnectionView, RotateResult } from './domain/connections.js';
export type { SendFilter, GoogleStatusFilter } from './domain/send-lists.js';
export type { SendConfig } from './send/send-config.js';
