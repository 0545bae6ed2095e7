/**
 * Vitest global setup for test projects that need PostgreSQL: starts one
 * throwaway cluster per run (or checks `PRUUV_TEST_DATABASE_URL`) and hands its
 * admin URL to the test files, which make their own databases with
 * `createTestDatabase(inject('pruuvPostgres').adminUrl)`. Add it to a project's
 * `test.globalSetup`.
 */
import type { TestProject } from 'vitest/node';
import { startTestCluster, type TestCluster } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The server prepared by `@pruuv/testkit/postgres-setup`. */
    pruuvPostgres: TestCluster;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { cluster, stop } = await startTestCluster();
  project.provide('pruuvPostgres', cluster);
  return stop;
}
