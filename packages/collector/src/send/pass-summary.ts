/** The text `pruuv send` prints for a pass report. Pure. */
import { PASS_PLATFORMS, PASS_STATUSES, type PassReport } from '@pruuv/sender';
import { table } from '../cli/output.js';

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** A few lines: totals, a platform × status table, paused connections and errors with their fixes. */
export function formatPassReport(report: PassReport): string {
  const lines: string[] = [];
  lines.push(
    `Send pass ${report.pass_id} finished in ${seconds(report.duration_ms)}: ${report.claimed} due send(s), ${report.batches} batch(es), ${report.requests} request(s).`,
  );
  if (report.claimed > 0) {
    lines.push('');
    lines.push(
      table(
        ['PLATFORM', ...PASS_STATUSES.map((s) => s.toUpperCase())],
        PASS_PLATFORMS.map((p) => [p, ...PASS_STATUSES.map((s) => String(report.platforms[p][s]))]),
      ),
    );
  }
  if (report.discarded > 0) {
    lines.push('', `${report.discarded} send(s) removed unsent and unrecorded: their client has no connection for the platform (add one to send later conversions).`);
  }
  if (report.paused.length > 0) {
    lines.push('', 'Paused by this pass (the platform refused the credentials):');
    for (const p of report.paused) lines.push(`  ${p.platform} connection of client ${p.client_id}: ${p.reason}`);
  }
  if (report.held.length > 0) {
    lines.push('', 'Paused connections (fix with `pruuv connections set --client ID --platform P ...`, then `pruuv send`):');
    for (const h of report.held) {
      lines.push(`  ${h.platform} connection of client ${h.client_id}: ${h.waiting} send(s) waiting${h.reason !== undefined ? `; ${h.reason}` : ''}`);
    }
  }
  if (report.errors.length > 0) {
    lines.push('', 'Connections that could not be read (their sends wait):');
    for (const e of report.errors) lines.push(`  ${e.platform} connection of client ${e.client_id}: ${e.message}`);
  }
  if (report.claimed > 0) lines.push('', 'See each attempt with `pruuv sends list`.');
  return lines.join('\n');
}
