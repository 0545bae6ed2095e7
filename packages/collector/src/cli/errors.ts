import { CollectorError } from '../errors.js';
import type { OperationError } from '../domain/operations.js';

/** Exit code of a failed command (a clear message was printed on stderr). */
export const EXIT_FAILURE = 1;
/** Exit code of a usage error: unknown command or option, missing or invalid argument. */
export const EXIT_USAGE = 2;

/** An error a CLI command reports as one line on stderr, with its exit code. */
export class CliError extends CollectorError {
  override name = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Hints appended to "unknown id" messages, telling the operator how to find the right id. */
const HINTS = { client: 'list clients with `pruuv clients list`', stage: 'list stages with `pruuv stages list`' } as const;

/** Maps an {@link OperationError} to a {@link CliError}: invalid input is a usage error (2), the rest exit 1. */
export function toCliError(error: OperationError): CliError {
  if (error.kind === 'invalid') return new CliError(error.message, EXIT_USAGE);
  const hint = error.entity !== undefined ? ` (${HINTS[error.entity]})` : '';
  return new CliError(`${error.message}${hint}`, EXIT_FAILURE);
}
