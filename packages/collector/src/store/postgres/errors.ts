/**
 * Which PostgreSQL failures a retry can cure. They become a
 * `StorageUnavailableError` (answered 503 with `Retry-After`; nothing was
 * committed), the rest stay what they are (a bug: 500).
 */
import { StorageUnavailableError } from '../../errors.js';

/** Node socket errors of a server that is down, restarting or unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATE classes and codes (postgresql.org/docs/current/errcodes-appendix.html):
 * 08 connection exception, 53 insufficient resources (disk full, too many
 * connections), 57P01-57P03 the server is shutting down or starting, 40001
 * serialization failure, 40P01 deadlock, 55P03 lock not available.
 */
function retryableSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('57P') || code === '40001' || code === '40P01' || code === '55P03';
}

/**
 * The error as a {@link StorageUnavailableError} when a retry can cure it,
 * else `undefined`. A full disk (53100) asks for a minute; the rest for a second.
 */
export function asPostgresUnavailable(error: unknown): StorageUnavailableError | undefined {
  if (error instanceof StorageUnavailableError) return error;
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && retryableSqlState(code)))) {
    return new StorageUnavailableError(code, code === '53100' ? 60 : 1, { cause: error });
  }
  // node-postgres reports a lost connection and a pool wait that ran out by message only.
  if (/Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/i.test(error.message)) {
    return new StorageUnavailableError('CONNECTION', 1, { cause: error });
  }
  return undefined;
}
