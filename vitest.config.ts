import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // The type tests (test/**/*.test-d.ts) are checked by `npm run typecheck`: tsc over test/
    // fails on a wrong expectTypeOf or an unused @ts-expect-error, as vitest's typecheck mode
    // would, which ran the same tsc a second time (about 17 s a run).
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // vitest leaves one core idle by default; the files mostly wait on sockets, so a worker
    // per core runs the suite in about two thirds of the time on the 2-core CI machine.
    maxWorkers: availableParallelism(),
    // A worker runs its files one after another in one process, loading express, fastify,
    // ajv and the rest once, not once per file: the suite's imports take 17 s, not 64 (134 s
    // of wall time to 90). So no file may leave global state changed for the next: the tests
    // that pollute a prototype on purpose undo it in a finally or do it in a child process
    // (test/fixtures/inherited), fake timers are put back after each test, a test of state a
    // module keeps for the process takes a fresh copy of the module (vi.resetModules, as in
    // test/unit/deadline.test.ts), and the prototype check (test/helpers/app.ts) compares with
    // the builtins as they were when the worker loaded it, before the file's tests ran.
    isolate: false,
  },
})
