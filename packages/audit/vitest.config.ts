import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // vitest leaves one core idle by default: a worker per core, as in the root suite.
    maxWorkers: availableParallelism(),
  },
})
