/**
 * What operators set for health checks and metrics, read from the environment
 * next to the rest of the configuration (`loadConfig` in config.ts).
 */
import { z } from 'zod';

/** Health-check and metrics settings. */
export interface OpsConfig {
  /** `GET /metrics` in the Prometheus text format (`PRUUV_METRICS`, `1`/`true`). Defaults to `false`: off, `/metrics` answers 404. */
  metrics: boolean;
  /**
   * Bearer token `/metrics` requires (`PRUUV_METRICS_TOKEN`, at least 16 characters). Defaults to
   * `undefined`: no token (then keep `/metrics` off the public internet, or use {@link metricsPort}).
   */
  metricsToken?: string;
  /**
   * Serve `/metrics` on this port only, not on the public one (`PRUUV_METRICS_PORT`). Defaults to
   * `undefined`: on the collector's own port.
   */
  metricsPort?: number;
  /** How long `/readyz` waits for the database (`PRUUV_READY_TIMEOUT_MS`). Defaults to `1000` ms. */
  readyTimeoutMs: number;
  /**
   * On SIGTERM, how long `/readyz` answers 503 before the server stops accepting connections
   * (`PRUUV_SHUTDOWN_DELAY_MS`), so a load balancer polling it takes the instance out first.
   * Defaults to `0`.
   */
  shutdownDelayMs: number;
}

/** The defaults, when no variable is set. */
export const DEFAULT_OPS_CONFIG: OpsConfig = { metrics: false, readyTimeoutMs: 1000, shutdownDelayMs: 0 };

/** The variables {@link readOpsConfig} reads, in the order the README lists them. */
export const OPS_CONFIG_VARIABLES = [
  'PRUUV_METRICS',
  'PRUUV_METRICS_TOKEN',
  'PRUUV_METRICS_PORT',
  'PRUUV_READY_TIMEOUT_MS',
  'PRUUV_SHUTDOWN_DELAY_MS',
] as const;

const MIN_METRICS_TOKEN_LENGTH = 16;

const ms = (name: string, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,6}$/, `${name} must be a whole number of milliseconds from 0 to ${max}`)
    .transform(Number)
    .refine((n) => n <= max, `${name} must be a whole number of milliseconds from 0 to ${max}`);

const opsSchema = z.object({
  PRUUV_METRICS: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => ['1', 'true', 'yes', '0', 'false', 'no'].includes(v), 'PRUUV_METRICS must be 1, true, 0 or false')
    .transform((v) => v === '1' || v === 'true' || v === 'yes')
    .optional(),
  // The value never appears in a message: only its length.
  PRUUV_METRICS_TOKEN: z
    .string()
    .superRefine((v, ctx) => {
      if (v.length >= MIN_METRICS_TOKEN_LENGTH && !/\s/.test(v)) return;
      ctx.addIssue({
        code: 'custom',
        message: `PRUUV_METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters without spaces (openssl rand -hex 32), got ${v.length} characters`,
      });
    })
    .optional(),
  PRUUV_METRICS_PORT: z
    .string()
    .trim()
    .regex(/^\d{1,5}$/, 'PRUUV_METRICS_PORT must be an integer from 1 to 65535')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 65535, 'PRUUV_METRICS_PORT must be an integer from 1 to 65535')
    .optional(),
  PRUUV_READY_TIMEOUT_MS: ms('PRUUV_READY_TIMEOUT_MS', 60_000).optional(),
  PRUUV_SHUTDOWN_DELAY_MS: ms('PRUUV_SHUTDOWN_DELAY_MS', 120_000).optional(),
});

/** The result of {@link readOpsConfig}: the settings, or one message per invalid variable. */
export type OpsConfigResult = { ok: true; config: OpsConfig } | { ok: false; issues: string[] };

/** Reads the health and metrics variables of `env` (empty ones count as unset). */
export function readOpsConfig(env: NodeJS.ProcessEnv): OpsConfigResult {
  const picked: Record<string, string> = {};
  for (const name of OPS_CONFIG_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') picked[name] = value;
  }
  const result = opsSchema.safeParse(picked);
  if (!result.success) return { ok: false, issues: result.error.issues.map((issue) => issue.message) };
  const e = result.data;
  const config: OpsConfig = {
    metrics: e.PRUUV_METRICS ?? DEFAULT_OPS_CONFIG.metrics,
    readyTimeoutMs: e.PRUUV_READY_TIMEOUT_MS ?? DEFAULT_OPS_CONFIG.readyTimeoutMs,
    shutdownDelayMs: e.PRUUV_SHUTDOWN_DELAY_MS ?? DEFAULT_OPS_CONFIG.shutdownDelayMs,
  };
  if (e.PRUUV_METRICS_TOKEN !== undefined) config.metricsToken = e.PRUUV_METRICS_TOKEN;
  if (e.PRUUV_METRICS_PORT !== undefined) config.metricsPort = e.PRUUV_METRICS_PORT;
  return { ok: true, config };
}
