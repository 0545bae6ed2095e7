/**
 * Public API of `@pruuv/collector`: build the app (`createApp`), open storage
 * (`openDb`, `createStore`), run the whole server (`loadConfig` + `startServer`), or send
 * conversions (`createSender`, `startSendSchedule`, `createConnections`, `listSends`).
 */
export { createApp } from './app.js';
export { openDb } from './db.js';
export { createStore } from './store/index.js';
export { loadConfig, ConfigError, LOG_LEVELS } from './config.js';
export { CENSOR, createLogger, redactSecrets, REDACTED_KEYS, requestLogger } from './logger.js';
export { startServer, ServerStartError } from './server.js';
export { OperationError } from './operations.js';
export { CollectorError, InvalidInputError, MigrationError, StorageUnavailableError } from './errors.js';
export { createSender } from './send/sender.js';
export { startSendSchedule, latestSlot, nextSlotAfter } from './send/schedule.js';
export { createConnections } from './send/connections.js';
export { listSends } from './send/audit-log.js';
export { listGoogleStatus, createGoogleStatusChecks } from './send/google-status.js';
export { readKeyRing, checkStoredSecrets, EncryptionKeyError } from './send/secrets.js';

export type { AppOptions } from './app.js';
export type { Db } from './db.js';
export type { Client, Stage, StoredEvent, Store } from './store/types.js';
export type { Config, LogLevel } from './config.js';
export type { LoggerOptions, Logger } from './logger.js';
export type { RunningServer, StartServerOptions } from './server.js';
export type { Sender, SenderOptions } from './send/sender.js';
export type { SendSchedule, SendScheduleOptions } from './send/schedule.js';
export type { Connections, ConnectionInput, ConnectionView, RotateResult } from './send/connections.js';
export type { SendAttempt, SendFilter } from './send/audit-log.js';
export type {
  GoogleRequestState,
  GoogleRequestStatus,
  GoogleStatusChecks,
  GoogleStatusFilter,
  GoogleStatusOptions,
  GoogleStatusSummary,
} from './send/google-status.js';
export type { SendConfig } from './send/send-config.js';
