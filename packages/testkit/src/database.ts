/**
 * The test files' side of the test database server: a database of their own
 * on the cluster `@pruuv/testkit/postgres-setup` prepared for this run.
 */
import { inject } from 'vitest';
import type {} from './postgres-setup.js';
import { createTestDatabase, type TestCluster, type TestDatabase } from './postgres.js';

/** The run's cluster. Throws when the project has no `@pruuv/testkit/postgres-setup` global setup. */
export function testCluster(): TestCluster {
  const cluster = inject('pruuvPostgres');
  if (!cluster) throw new Error("No test database server: add '@pruuv/testkit/postgres-setup' to this project's test.globalSetup");
  return cluster;
}

/** A new, empty database on the run's cluster. */
export function newTestDatabase(prefix?: string): Promise<TestDatabase> {
  return createTestDatabase(testCluster().adminUrl, prefix);
}
