/**
 * YAML's cost per byte: the slowest YAML shapes we can build (merge keys, aliases, deep
 * flow nesting, plain lists), each at 100 KB and 1 MB, decoded with the structure limits the
 * defaults derive from that `limit`, next to a JSON body of the same size. A shape that
 * amplified (work growing faster than its bytes) would show as a ratio that grows with size.
 */
import { CORE_SCHEMA, loadAll, mergeTag } from 'js-yaml'
import { sizeLimit } from '../dist/esm/core/limits.js'
import { bindFormat, formats } from '../dist/esm/decoders/formats.js'
import type { StructureLimits } from '../dist/esm/core/guard.js'
import { bytesLabel, table } from './lib/stats.js'
import type { Target } from './targets.js'

export interface YamlShapeSettings {
  readonly sizes: readonly number[]
  /** Timed decodes per shape; the median is kept. */
  readonly samples: number
}

export interface YamlShapeRow {
  readonly size: number
  readonly shape: string
  readonly bytes: number
  readonly outcome: string
  readonly ms: number
  /** Times the JSON body of the same size. */
  readonly ratio: number
  /** Times js-yaml alone on the same body (core schema and merge keys): the parser's floor. */
  readonly parserRatio: number
}

// The parser by itself: no tags of ours, no limits, no alias copies, no guard.
const bare = {
  schema: CORE_SCHEMA.withTags(mergeTag),
  maxAliases: Infinity,
  maxTotalMergeKeys: Infinity,
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join(', ')

/** Each shape: a head, then lines repeated until the body reaches the size. */
const shapes: Record<string, [head: string, line: (i: number) => string, tail?: string]> = {
  'merge of 1 key': ['a: &a {k: 1}\nl:\n', (i) => `- {<<: *a, z: ${i}}\n`],
  'merge of 5 keys': [`a: &a {${keys(5)}}\nl:\n`, (i) => `- {<<: *a, z: ${i}}\n`],
  'merge, block style': ['a: &a {k: 1}\nl:\n', (i) => `- <<: *a\n  z: ${i}\n`],
  'alias to a mapping': ['a: &a {k: 1}\nl:\n', (i) => `- {m: *a, z: ${i}}\n`],
  'alias to a scalar': ['a: &a 1\nl:\n', (i) => `- {m: *a, z: ${i}}\n`],
  'flow mappings': ['l:\n', (i) => `- {m: 1, z: ${i}}\n`],
  'block mappings': ['l:\n', (i) => `- m: 1\n  z: ${i}\n`],
  'nested flow sequences': ['l:\n', () => '- [[[1]]]\n'],
  'one flow sequence': ['l: [', (i) => `${i}, `, '0]'],
}

function fill(size: number, [head, line, tail = '']: (typeof shapes)[string]): Buffer {
  const parts = [head]
  let length = head.length + tail.length
  for (let i = 0; ; i++) {
    const next = line(i)
    if (length + next.length > size) break
    parts.push(next)
    length += next.length
  }
  parts.push(tail)
  return Buffer.from(parts.join(''))
}

/** A JSON array of small objects, as close to `size` bytes as it gets. */
function jsonOf(size: number): Buffer {
  const parts = ['[']
  let length = 2
  for (let i = 0; ; i++) {
    const next = `${i === 0 ? '' : ','}{"m":1,"z":${i}}`
    if (length + next.length > size) break
    parts.push(next)
    length += next.length
  }
  parts.push(']')
  return Buffer.from(parts.join(''))
}

function limitsFor(size: number): StructureLimits {
  return {
    depth: 64,
    keys: 1000,
    nodes: sizeLimit('maxNodes', size),
    stringLength: sizeLimit('maxStringLength', size),
  }
}

function timed(run: () => void, samples: number): number {
  run() // warm: the first call pays for compilation
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint()
    run()
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}

function outcome(run: () => void): string {
  try {
    run()
    return 'accepted'
  } catch (err) {
    return (err as { type?: string }).type ?? 'threw'
  }
}

export function runYamlShapes(settings: YamlShapeSettings): YamlShapeRow[] {
  const rows: YamlShapeRow[] = []
  for (const size of settings.sizes) {
    const limits = limitsFor(size)
    const context = { limits }
    const yaml = bindFormat(formats.yaml, context)
    const json = jsonOf(size)
    const decodeJson = () => void formats.json.decode(json, context)
    const quiet = (run: () => void) => () => {
      try {
        run()
      } catch {
        // a refusal is an outcome; its cost is what is measured
      }
    }
    const jsonMs = timed(decodeJson, settings.samples * 3)
    rows.push({
      size,
      shape: 'JSON (reference)',
      bytes: json.length,
      outcome: 'accepted',
      ms: jsonMs,
      ratio: 1,
      parserRatio: Number.NaN,
    })
    for (const [shape, spec] of Object.entries(shapes)) {
      const body = fill(size, spec)
      const text = body.toString()
      const run = () => void yaml.decode(body, context)
      const ms = timed(quiet(run), settings.samples)
      const parserMs = timed(() => void loadAll(text, bare), settings.samples)
      rows.push({
        size,
        shape,
        bytes: body.length,
        outcome: outcome(run),
        ms,
        ratio: ms / jsonMs,
        parserRatio: ms / parserMs,
      })
    }
  }
  return rows
}

export function yamlShapeTable(rows: readonly YamlShapeRow[]): string {
  return table([
    ['limit', 'shape', 'bytes', 'outcome', 'ms (median)', '× JSON', '× js-yaml alone on it'],
    ...rows.map((r) => [
      bytesLabel(r.size),
      r.shape,
      String(r.bytes),
      r.outcome,
      r.ms.toFixed(2),
      `${r.ratio.toFixed(1)}x`,
      Number.isNaN(r.parserRatio) ? '' : `${r.parserRatio.toFixed(2)}x`,
    ]),
  ])
}

/** The slowest YAML shape at each size, against the goal of 10x JSON. */
export function yamlShapeTargets(rows: readonly YamlShapeRow[]): Target[] {
  const sizes = [...new Set(rows.map((r) => r.size))]
  return sizes.map((size) => {
    const worst = rows
      .filter((r) => r.size === size && r.shape !== 'JSON (reference)')
      .reduce((a, b) => (b.ratio > a.ratio ? b : a))
    return {
      what: `slowest YAML shape at ${bytesLabel(size)} (${worst.shape})`,
      goal: '≤ 10x JSON of the same size',
      measured: `${worst.ratio.toFixed(1)}x (${worst.parserRatio.toFixed(2)}x js-yaml alone on it)`,
      met: worst.ratio <= 10,
    }
  })
}
