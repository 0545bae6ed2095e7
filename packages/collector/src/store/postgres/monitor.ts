import { readMigrations } from '../migrations.js';
import type { MonitorStore, Platform, StoreGauges, StoreReadiness, TableSize } from '../types.js';
import { POSTGRES_MIGRATIONS_DIR } from './migrate.js';
import type { StorePool } from './pool.js';

/** Readiness and the scrape-time gauges on PostgreSQL. */
export function createMonitor(db: StorePool, migrationsDir: string = POSTGRES_MIGRATIONS_DIR): MonitorStore {
  const known = readMigrations(migrationsDir).map((m) => m.name);
  let pending: Promise<string[]> | undefined;
  return {
    async ready(timeoutMs: number): Promise<StoreReadiness> {
      let timer: NodeJS.Timeout | undefined;
      // The pool's own wait for a connection is longer (`waitMs`): the check gives up first.
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      // A query still waiting from an earlier check is waited on again rather than joined by a
      // new one: probes of a hung server never pile up on the pool.
      pending ??= db
        .query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')
        .then((r) => r.rows.map((row) => row.name))
        .finally(() => {
          pending = undefined;
        });
      const names = pending;
      try {
        const got = await Promise.race([names, timeout]);
        if (got === 'timeout') {
          names.catch(() => {});
          return { ready: false, reason: 'unavailable' };
        }
        const current = got.length === known.length && got.every((name, i) => name === known[i]);
        return current ? { ready: true } : { ready: false, reason: 'schema' };
      } catch {
        return { ready: false, reason: 'unavailable' };
      } finally {
        clearTimeout(timer);
      }
    },
    async gauges(now: Date): Promise<StoreGauges> {
      const [due, paused, size] = await Promise.all([
        db.query<{ n: number; oldest: Date | null }>(
          "SELECT count(*)::int AS n, min(due_at) AS oldest FROM outbox WHERE status IN ('pending', 'retrying') AND due_at <= $1",
          [now],
        ),
        db.query<{ platform: Platform; n: number }>(
          "SELECT platform, count(*)::int AS n FROM connections WHERE status = 'paused' GROUP BY platform ORDER BY platform",
        ),
        db.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes'),
      ]);
      const row = due.rows[0];
      const gauges: StoreGauges = {
        outbox_due: row?.n ?? 0,
        paused_connections: paused.rows.map((r) => ({ platform: r.platform, count: r.n })),
        database_bytes: Number(size.rows[0]?.bytes ?? 0),
      };
      if (row?.oldest) gauges.oldest_due_at = new Date(row.oldest).toISOString();
      return gauges;
    },
    async tables(): Promise<TableSize[]> {
      const { rows } = await db.query<{ name: string; bytes: string }>(
        `SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes FROM pg_class c
         WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace ORDER BY c.relname`,
      );
      const sizes: TableSize[] = [];
      for (const r of rows) {
        // Names come from pg_class, quoted: never input. Exact counts, as SQLite's (pg_class.reltuples is an estimate).
        const counted = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${r.name.replaceAll('"', '""')}"`);
        sizes.push({ table: r.name, rows: Number(counted.rows[0]?.n ?? 0), bytes: Number(r.bytes) });
      }
      return sizes;
    },
  };
}
