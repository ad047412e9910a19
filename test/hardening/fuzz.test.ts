import fc from 'fast-check'
import { describe, it } from 'vitest'
import { properties, type Tally } from './properties.js'

// Issue 9 fuzzing, bounded for `npm test`: every property with one fixed seed and a few
// hundred runs. `npm run fuzz` runs the same properties for minutes with many seeds.

const SEED = 20_240_909
const RUNS = 300

describe('fuzz properties (fixed seed)', () => {
  it.each(properties().map((p) => [p.name, p] as const))('%s', (_name, property) => {
    const tally: Tally = new Map()
    fc.assert(property.build(tally), { seed: SEED, numRuns: RUNS })
  })
})
