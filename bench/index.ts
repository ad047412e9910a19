/**
 * `npm run bench`: every benchmark in one process run, tables to stdout and to
 * bench/RESULTS.md. `npm run bench -- --quick` for a run of about a minute; `--only=micro,http`
 * to run some suites; `--cpu-clock` to time micro benchmarks by CPU time on a busy machine;
 * `--one-process` to run the HTTP servers in one child process instead of one each.
 * Only a full run of every suite rewrites RESULTS.md, unless `--write` says so.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { bombTable, runBombs } from './bombs.js'
import { benchFormats } from './formats.js'
import { httpTables, runHttp } from './http/run.js'
import { serverKinds } from './http/servers.js'
import { table } from './lib/stats.js'
import { type MicroSettings, microTables, runMicro, scalingTable } from './micro.js'
import { runMiddleware } from './middleware.js'
import { payloads, scalingPayloads } from './payloads.js'
import { bombTarget, httpTargets, microTargets, middlewareTargets, type Target } from './targets.js'
import { runYamlShapes, yamlShapeTable, yamlShapeTargets } from './yaml-shapes.js'

const suites = ['micro', 'middleware', 'scaling', 'http', 'bombs', 'yaml'] as const
type Suite = (typeof suites)[number]

export interface BenchOptions {
  readonly quick: boolean
  readonly only: readonly Suite[]
  readonly cpuClock: boolean
  /** The HTTP servers share one child process (see HttpSettings.oneProcess). */
  readonly oneProcess: boolean
  /** Where RESULTS.md goes; null to write nothing. */
  readonly out: string | null
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  let quick = false
  let cpuClock = false
  let oneProcess = false
  let only: Suite[] = [...suites]
  let write: boolean | null = null
  for (const arg of argv) {
    if (arg === '--quick') quick = true
    else if (arg === '--cpu-clock') cpuClock = true
    else if (arg === '--one-process') oneProcess = true
    else if (arg === '--write') write = true
    else if (arg === '--no-write') write = false
    else if (arg.startsWith('--only=')) {
      only = arg
        .slice('--only='.length)
        .split(',')
        .map((s) => {
          if (!(suites as readonly string[]).includes(s)) {
            throw new Error(`unknown suite "${s}"; pick from ${suites.join(', ')}`)
          }
          return s as Suite
        })
    } else throw new Error(`unknown argument "${arg}"`)
  }
  const full = !quick && only.length === suites.length
  const out = (write ?? full) ? fileURLToPath(new URL('./RESULTS.md', import.meta.url)) : null
  return { quick, only, cpuClock, oneProcess, out }
}

/**
 * Settings for a full run (about nine minutes on 2 cores) and a quick one (about one). The
 * HTTP suite runs the small and medium payloads, the two its targets name; the large one is
 * measured in-process (micro, middleware, scaling), where sockets add no noise.
 */
function settings(quick: boolean, cpuClock: boolean) {
  const micro: MicroSettings = quick
    ? { rounds: 4, msPerCandidate: 40, cpuClock }
    : { rounds: 5, msPerCandidate: 60, cpuClock }
  return {
    micro,
    // Cheap per round, and its pairs (safeBody + zod against express.json() + zod) are read
    // within each round: more rounds steady the medians.
    middleware: { ...micro, rounds: quick ? 4 : 9 },
    scaling: { ...micro, rounds: quick ? 2 : 3, minSamples: quick ? 2 : 4 },
    http: quick
      ? { rounds: 2, duration: 1, warmup: 0.5, connections: 10, payloads: 2 }
      : { rounds: 3, duration: 1.2, warmup: 0.4, connections: 10, payloads: 2 },
    bombs: { clients: 100, duration: quick ? 3 : 5, inflated: 10 * 1024 * 1024 },
    yaml: { sizes: [100 * 1024, 1024 * 1024], samples: quick ? 3 : 7 },
  }
}

function machine(): string {
  const cpu = cpus()
  const load = loadavg()
    .map((n) => n.toFixed(2))
    .join(', ')
  return `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, load average at start ${load}`
}

function targetTable(targets: readonly Target[]): string {
  return table([
    ['target', 'goal', 'measured (median)', 'met'],
    ...targets.map((t) => [
      t.what,
      t.goal,
      t.measured,
      t.met === null ? 'n/a' : t.met ? 'yes' : '**no**',
    ]),
  ])
}

export async function bench(options: BenchOptions, log: (line: string) => void): Promise<string> {
  const s = settings(options.quick, options.cpuClock)
  const started = performance.now()
  const sections: string[] = []
  const targets: Target[] = []
  const has = (suite: Suite) => options.only.includes(suite)
  const sizes = payloads()

  if (has('micro')) {
    const rows = await runMicro(sizes, s.micro, { log })
    targets.push(...microTargets(rows))
    sections.push(
      '## Micro: bytes to validated value\n\n' +
        'Each candidate on the same bytes in one process, in alternating rounds; the limit is ' +
        "the format's raw decoder plus an ajv validator compiled by a plain `new Ajv2020()` with " +
        'ajv-formats. The `(ownProperties)` row compiles the same schema with the setting ' +
        'safebody falls back to while Object.prototype is polluted, to show what it costs ajv. ' +
        'safebody runs negotiate, decode, ' +
        "guard and validate (no socket). Time is the median over rounds of each round's " +
        "median, with the rounds' min–max; ratios are taken within each round.\n\n" +
        microTables(rows),
    )
  }
  if (has('middleware')) {
    const rows = await runMiddleware(sizes, s.middleware, log)
    targets.push(...middlewareTargets(rows))
    sections.push(
      '## Middleware: the JSON path as Express middleware\n\n' +
        'Each middleware driven in-process by a real `http.IncomingMessage` fed the body ' +
        "(Content-Length set), with no socket and no router: Express's own cost is the same " +
        'for every candidate, so it is left out. The reference is the cheapest middleware that ' +
        'does the job: collect the chunks, JSON.parse, the compiled ajv validator. ' +
        `${s.middleware.rounds} alternating rounds; the zod target compares safeBody + zod ` +
        'with express.json() + zod within each round, and takes the median of those ratios.\n\n' +
        microTables(rows, 'reference'),
    )
  }
  if (has('scaling')) {
    log('scaling')
    const rows = await runMicro(scalingPayloads(), s.scaling, {
      formats: benchFormats.filter((f) => f.format === 'json'),
      global: { maxNodes: 10_000_000, maxStringLength: 10_000_000 },
      include: (name) => name === 'JSON.parse + ajv' || name.startsWith('safebody'),
      log,
    })
    sections.push(
      '## Scaling: the same path on growing bodies\n\n' +
        'JSON only, the micro harness at 1 KB, 100 KB, 1 MB and 10 MB (safebody with maxNodes ' +
        'raised so that the 10 MB body is allowed). Linear cost shows as a flat time per MB.\n\n' +
        scalingTable(rows),
    )
  }
  if (has('http')) {
    const kinds = Object.keys(serverKinds)
    const { oneProcess } = options
    const rows = await runHttp(
      sizes.slice(0, s.http.payloads),
      { ...s.http, kinds, oneProcess },
      log,
    )
    targets.push(...httpTargets(rows))
    sections.push(
      '## HTTP: autocannon on 127.0.0.1\n\n' +
        (oneProcess
          ? 'Every server in one child process, a port each (`--one-process`); '
          : 'Each server in its own child process; ') +
        `autocannon with ${s.http.connections} ` +
        `connections, ${s.http.duration} s per run, ${s.http.rounds} alternating rounds after a ` +
        `${s.http.warmup} s warm-up each. req/s and p99 are medians over rounds (min–max); ` +
        'ratios are taken within each round against express.json() + ajv. Server CPU per ' +
        "request is the server process's CPU time over the requests it answered: a cost " +
        'figure that a busy machine inflates less than req/s. Every body limit is set above ' +
        'the largest payload. express.json() is body-parser.json() (Express 5 ships ' +
        'body-parser 2), so those two rows measure the same code twice.\n\n' +
        httpTables(rows),
    )
  }
  if (has('yaml')) {
    log('yaml shapes')
    const rows = runYamlShapes(s.yaml)
    targets.push(...yamlShapeTargets(rows))
    sections.push(
      '## YAML: cost per byte of the slowest shapes\n\n' +
        'Merge keys, aliases and nesting, each filling a body of the size shown, decoded with ' +
        'the structure limits the defaults derive from that `limit` (maxNodes and ' +
        'maxStringLength follow it), next to a JSON body of the same size through the JSON ' +
        'decoder. Decode only (bytes to guarded value), median of the samples.\n\n' +
        yamlShapeTable(rows),
    )
  }
  if (has('bombs')) {
    const result = await runBombs(s.bombs, log)
    targets.push(bombTarget(result))
    sections.push(
      '## Bombs: memory under gzip bombs\n\n' +
        `${result.clients} concurrent clients send, for ${s.bombs.duration} s, gzip bodies ` +
        'that inflate to 10 MB, to Express 5 with safeBody and its default 100 kb limit. ' +
        "Peak RSS is the server's own: sampled every 5 ms, and the kernel's high-water mark " +
        'when that rose during the run.\n\n' +
        bombTable(result),
    )
  }
  // The hand-written reading of the figures (profiles, known gaps) travels with every run.
  const analysis = fileURLToPath(new URL('./ANALYSIS.md', import.meta.url))
  if (existsSync(analysis)) sections.push(readFileSync(analysis, 'utf8').trim())
  const minutes = ((performance.now() - started) / 60000).toFixed(1)
  const flags = [options.quick ? '--quick' : '', options.oneProcess ? '--one-process' : '']
  const given = flags.filter((f) => f !== '').join(' ')
  const command = `npm run bench${given === '' ? '' : ` -- ${given}`}`
  return [
    '# safebody benchmarks',
    '',
    `Produced by \`${command}\` in ${minutes} min. ${machine()}.`,
    '',
    '## Targets',
    '',
    targetTable(targets),
    '',
    sections.join('\n\n'),
    '',
  ].join('\n')
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const report = await bench(options, (line) => process.stderr.write(`${line}\n`))
  process.stdout.write(report)
  if (options.out !== null) writeFileSync(options.out, report)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
