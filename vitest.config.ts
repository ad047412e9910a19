import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // vitest leaves one core idle by default; the files mostly wait on sockets, so a worker
    // per core runs the suite in about two thirds of the time on the 2-core CI machine.
    maxWorkers: availableParallelism(),
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
})
