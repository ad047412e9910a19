/**
 * The formats the micro benchmarks cover: one entry each. Adding a format is adding an
 * entry here (its content type, a real encoder, and its raw decoder as the limit); the
 * harness measures the limit, every alternative, and safebody's pipeline on each payload.
 */
import { decode as decodeMsgpack, encode as encodeMsgpack } from '@msgpack/msgpack'
import { CORE_SCHEMA, dump, load } from 'js-yaml'
import secureJson from 'secure-json-parse'
import type { FormatName } from '../dist/esm/decoders/formats.js'
import type { LimitOptions, RouteBinding } from '../dist/esm/core/options.js'
import type { JsonSchema } from '../dist/esm/core/registry.js'
import { type Pipeline, safebodyPipeline } from './lib/safebody.js'

/** One way to turn bytes into a value; the harness validates it with the baseline ajv. */
export interface Decoder {
  readonly name: string
  decode(bytes: Buffer): unknown
}

export interface BenchFormat {
  /** safebody's name for the format; the route allows this one format only. */
  readonly format: FormatName
  readonly contentType: string
  /** A real encoder for the payload value. */
  encode(value: unknown): Buffer
  /** The limit: the format's own decoder and nothing else. */
  readonly raw: Decoder
  /** Other known ways to decode the format safely, each measured with the same validator. */
  readonly alternatives?: readonly Decoder[]
  /** Route options the format needs besides `formats` (a message type, say). */
  readonly binding?: Omit<RouteBinding, 'schema' | 'formats'>
  /** Build the safebody side differently, if compiling one route is not enough. */
  pipeline?(schema: JsonSchema, global: LimitOptions): Pipeline
}

export const benchFormats: readonly BenchFormat[] = [
  {
    format: 'json',
    contentType: 'application/json',
    encode: (value) => Buffer.from(JSON.stringify(value)),
    raw: { name: 'JSON.parse + ajv', decode: (bytes) => JSON.parse(bytes.toString('utf8')) },
    alternatives: [
      {
        name: 'secure-json-parse + ajv',
        decode: (bytes) => secureJson.parse(bytes.toString('utf8')),
      },
    ],
  },
  {
    format: 'msgpack',
    contentType: 'application/vnd.msgpack',
    encode: (value) => Buffer.from(encodeMsgpack(value)),
    raw: { name: '@msgpack/msgpack decode + ajv', decode: (bytes) => decodeMsgpack(bytes) },
  },
  {
    format: 'yaml',
    contentType: 'application/yaml',
    encode: (value) => Buffer.from(dump(value)),
    raw: {
      name: 'js-yaml load (core schema) + ajv',
      decode: (bytes) => load(bytes.toString('utf8'), { schema: CORE_SCHEMA }),
    },
  },
]

/** The safebody side of a format entry. */
export function pipelineFor(entry: BenchFormat, schema: JsonSchema, global: LimitOptions) {
  if (entry.pipeline) return entry.pipeline(schema, global)
  return safebodyPipeline(schema, { ...entry.binding, formats: [entry.format] }, global)
}
