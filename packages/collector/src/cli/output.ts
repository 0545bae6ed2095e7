/** Where a CLI command writes its result: one JSON document with `--json`, human text otherwise. */
export interface CliOutput {
  /** `--json` was given: write exactly one JSON document on stdout and nothing else. */
  readonly json: boolean;
  /** Writes text to stdout; a newline is appended. */
  write(text: string): void;
}

/** Writes `data` as pretty JSON when `output.json`, else the text `human()` returns. */
export function emit(output: CliOutput, data: unknown, human: () => string): void {
  output.write(output.json ? JSON.stringify(data, null, 2) : human());
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
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === '' ? '-' : cell)))];
  const widths = headers.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  return cells
    .map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  '))
    .join('\n');
}

/** Shortens `text` to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
