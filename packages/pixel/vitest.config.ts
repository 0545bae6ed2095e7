import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'pixel',
    environment: 'happy-dom',
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**'],
  },
});
