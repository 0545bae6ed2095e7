#!/usr/bin/env node
/**
 * Backup benchmark: a SQLite database of BENCH_EVENTS funnel events (default 100,000, each with
 * a click id and a UTM, admitted through the store's own path with their outbox rows and daily
 * roll-ups), then `pruuv db backup` in a process of its own, as an operator runs it: the copy
 * through SQLite's backup API, `integrity_check` and every table's row count. Prints the
 * database's size, the command's own duration and the wall time with Node's start.
 *
 *   npm run build && npm run bench:backup -w @pruuv/collector
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore } from '../dist/index.js';

const BIN = fileURLToPath(new URL('../bin/pruuv.js', import.meta.url));
const N = Number(process.env.BENCH_EVENTS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'pruuv-bench-backup-'));
try {
  const file = join(dir, 'pruuv.db');
  const store = openSqliteStore(file, { perHour: 1e9 });
  const client = await store.clients.create({ name: 'Acme' });
  const { stage } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
  const start = Date.parse('2026-01-01T00:00:00Z');
  store.db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const admission = store.events.admitNow(
        {
          id: randomUUID(),
          client_id: client.id,
          stage_id: stage.id,
          stage_key: 'lead',
          source: 'webhook',
          reference: `crm-${i}`,
          consent: 'granted',
          clicks: { gclid: { value: `Cj0KCQiA-${i}-${'x'.repeat(40)}` } },
          utm: { utm_source: 'google', utm_campaign: 'spring' },
          demographics: {},
        },
        new Date(start + i * 1000),
      );
      if (admission.status !== 'stored') throw new Error(`event ${i}: ${admission.status}`);
    }
  })();
  await store.close();
  const dbBytes = statSync(file).size;
  const started = performance.now();
  const out = execFileSync(process.execPath, [BIN, 'db', 'backup', join(dir, 'backup.db'), '--db', file, '--json']);
  const wallMs = Math.round(performance.now() - started);
  const report = JSON.parse(out.toString());
  const rows = report.tables.reduce((n, t) => n + t.rows, 0);
  console.log(`events ${N}, rows ${rows}, database ${(dbBytes / 1e6).toFixed(0)} MB`);
  console.log(`pruuv db backup: ${report.duration_ms} ms (copy, integrity_check, counts); ${wallMs} ms with Node's start; copy ${(report.bytes / 1e6).toFixed(0)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
