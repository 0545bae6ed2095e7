import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'sender',
    environment: 'node',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
