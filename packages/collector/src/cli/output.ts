/** Where a CLI command writes its result: one JSON document with `--json`, human text otherwise. */
export interface CliOutput {
  /** `--json` was given: write exactly one JSON document on stdout and nothing else. */
  readonly json: boolean;
  /** Writes text to stdout; a newline is appended. */
  write(text: string): void;
}

/**
 * Characters that can take over a terminal or disguise text: C0 controls (ESC starts the ANSI
 * sequences that move the cursor, recolour or retitle; CR overwrites a line; BS erases), DEL,
 * the C1 controls (a one-byte CSI), and the Unicode bidirectional overrides and isolates, which
 * reorder what is displayed.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escapeOne = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Text safe to print on a terminal: every control character shown as `\u001b` and the like, so a
 * hostile stored value (an event's `reference`…) is displayed, never obeyed. Newlines and tabs
 * stay unless `inline` (a table cell or a one-line message).
 */
export function terminalSafe(text: string, inline = false): string {
  return text.replace(inline ? CONTROL_OR_NEWLINE : CONTROL, escapeOne);
}

/**
 * Writes `data` as pretty JSON when `output.json`, else the text `human()` returns, made
 * {@link terminalSafe}. The JSON is exact (it parses back to the same values) and safe to print
 * too: `JSON.stringify` escapes C0 controls, and the C1 controls and bidi overrides it leaves
 * raw are written as `\u` escapes, which is still the same JSON.
 */
export function emit(output: CliOutput, data: unknown, human: () => string): void {
  output.write(output.json ? terminalSafe(JSON.stringify(data, null, 2)) : terminalSafe(human()));
}

/** A {@link CliOutput} that writes to a stream (stdout for the bin). */
export function streamOutput(json: boolean, stream: { write(chunk: string): unknown }): CliOutput {
  return { json, write: (text) => void stream.write(`${text}\n`) };
}

/** A {@link CliOutput} that keeps what is written, for tests and embedding. */
export function memoryOutput(json = false): CliOutput & { readonly text: string } {
  const chunks: string[] = [];
  return {
    json,
    write: (text) => void chunks.push(`${text}\n`),
    get text() {
      return chunks.join('');
    },
  };
}

/** Renders rows as a left-aligned text table with a header row; `-` for empty cells. */
export function table(headers: string[], rows: string[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === '' ? '-' : terminalSafe(cell, true))))];
  const widths = headers.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  return cells
    .map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  '))
    .join('\n');
}

/** Shortens `text` to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
