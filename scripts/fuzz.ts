// `npm run fuzz [-- --seconds N] [-- --seed S]`: the fuzz properties of test/hardening for
// minutes, a new seed each round, printing what each property tried. Exits 1 on the first
// counterexample, printing its seed and path so `fc.assert(..., { seed, path })` replays it.
import fc from 'fast-check'
import { type FuzzProperty, properties, type Tally } from '../test/hardening/properties.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`)
  const value = at === -1 ? fallback : Number(args[at + 1])
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`)
  return value
}
const seconds = option('seconds', 180)
const firstSeed = option('seed', Date.now() % 2 ** 31)
const RUNS_PER_ROUND = 2000

interface Progress {
  property: FuzzProperty
  tally: Tally
  runs: number
  seeds: number
}

const progress: Progress[] = properties().map((property) => ({
  property,
  tally: new Map(),
  runs: 0,
  seeds: 0,
}))
const deadline = Date.now() + seconds * 1000
console.log(`fuzz: ${progress.length} properties for ${seconds} s, seeds from ${firstSeed}`)

let seed = firstSeed
let failed = false
while (Date.now() < deadline && !failed) {
  for (const entry of progress) {
    const details = fc.check(entry.property.build(entry.tally), {
      seed,
      numRuns: RUNS_PER_ROUND,
    })
    entry.runs += details.numRuns
    entry.seeds++
    if (details.failed) {
      failed = true
      console.error(`\nFAILED: ${entry.property.name}`)
      console.error(`  seed ${details.seed}, path "${details.counterexamplePath}"`)
      console.error(`  counterexample: ${fc.stringify(details.counterexample)}`)
      console.error(`  error: ${String(details.errorInstance)}`)
      break
    }
    if (Date.now() >= deadline) break
  }
  seed = (seed + 1) % 2 ** 31
}

for (const { property, tally, runs, seeds } of progress) {
  const outcomes = [...tally.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([what, n]) => `${what} ${n}`)
    .join(', ')
  console.log(`- ${property.name}: ${runs} inputs over ${seeds} seeds\n    ${outcomes}`)
}
console.log(failed ? 'fuzz: FAILED' : 'fuzz: no counterexample')
process.exit(failed ? 1 : 0)
