/**
 * CSV for the dashboard's exports (RFC 4180: comma-separated, CRLF line ends, a field with a
 * comma, a double quote or a line break in double quotes, its quotes doubled), made safe to open
 * in a spreadsheet: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
 * would be read as a formula (OWASP, "CSV Injection"), so it gets a leading apostrophe.
 */

/** A cell's text. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One line, CRLF-terminated. */
export function csvLine(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
