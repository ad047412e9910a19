import { createHash } from 'node:crypto'
import { inspect } from 'node:util'
import type { ErrorRequestHandler, Express, RequestHandler } from 'express'
import { formats } from '../../src/decoders/formats.js'
import {
  problemDetails,
  type RouteBinding,
  type SafeBodyOptions,
  safeBody,
} from '../../src/index.js'
import { corpusProto, formatBindings } from '../fixtures/attacks/index.js'
import type { CorpusFormat, CorpusRoute } from '../fixtures/attacks/types.js'
import type { ExpressFactory, Recorder } from '../helpers/app.js'

/** The formats safebody has on this branch: the corpus runs the cases of these only. */
export function availableFormats(): CorpusFormat[] {
  return Object.keys(formats) as CorpusFormat[]
}

/** A schema that names the keys shadowing Object.prototype methods, and a role enum. */
export const strictSchema = {
  type: 'object',
  properties: {
    role: { enum: ['user'] },
    hasOwnProperty: { type: 'string' },
    toString: { type: 'string' },
    valueOf: { type: 'number' },
  },
} as const

const routeOptions: Record<Exclude<CorpusRoute, 'unbound'>, Omit<RouteBinding, 'formats'>> = {
  open: { schema: true },
  strict: { schema: strictSchema },
  tight: {
    schema: true,
    limit: '10kb',
    maxDepth: 8,
    maxKeys: 50,
    maxNodes: 500,
    maxStringLength: 200,
  },
  slow: { schema: true, timeout: 300 },
}

/** The route table of the corpus app: every route, once per available format. */
export function corpusRoutes(available: readonly CorpusFormat[]): Record<string, RouteBinding> {
  const routes: Record<string, RouteBinding> = {}
  for (const format of available) {
    for (const [route, options] of Object.entries(routeOptions)) {
      routes[`POST /${route}/${format}`] = {
        ...options,
        ...formatBindings[format],
        formats: [format],
      } as RouteBinding
    }
  }
  return routes
}

/** The safeBody options of the corpus app (and the soak's server): its routes and .proto files. */
export function corpusOptions(available: readonly CorpusFormat[]): SafeBodyOptions {
  return { routes: corpusRoutes(available), proto: corpusProto }
}

/** The corpus app plus what its handlers saw: bodies, their hashes, and errors. */
export interface CorpusApp {
  app: Express
  seen: Recorder & { hashes: string[] }
}

/**
 * A real Express app with safeBody in front of a handler that, for every accepted body,
 * runs what application code typically does next, including a naive recursive merge (the
 * usual prototype-pollution sink), then answers 200 with the body. If a hostile body got
 * through, the merge pollutes Object.prototype or the handler throws (a 500).
 */
export function buildCorpusApp(express: ExpressFactory): CorpusApp {
  // Built here rather than with helpers/app's buildApp, which imports vitest: the soak
  // (scripts/soak.ts) runs this app outside vitest.
  const available = availableFormats()
  const seen = { bodies: [] as unknown[], errors: [] as unknown[], hashes: [] as string[] }
  const app = express() as Express
  app.use(safeBody(corpusOptions(available)))
  const handler: RequestHandler = (req, res) => {
    seen.bodies.push(req.body)
    seen.hashes.push(bodyHash(req.body))
    laterCode(req.body)
    res.status(200).json({ hash: seen.hashes.at(-1) })
  }
  for (const format of available) {
    for (const route of ['open', 'strict', 'tight', 'slow', 'unbound']) {
      app.post(`/${route}/${format}`, handler)
    }
  }
  const record: ErrorRequestHandler = (err, _req, _res, next) => {
    seen.errors.push(err)
    next(err)
  }
  app.use(record)
  app.use(problemDetails())
  return { app, seen }
}

/** A stable hash of a value in the data model (keys in insertion order, -0 kept apart). */
export function bodyHash(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (Object.is(v, -0) ? '-0' : v))
  return createHash('sha256')
    .update(text ?? 'undefined')
    .digest('hex')
}

/** What an app does with a body after safebody handed it over. Throws if the body breaks it. */
export function laterCode(body: unknown): void {
  JSON.stringify(body)
  inspect(body, { depth: 3 })
  if (Array.isArray(body)) structuredClone(body)
  else if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>
    Object.keys(record).join(',')
    Object.entries(record)
    void { ...record }
    Object.assign({}, record)
    structuredClone(record)
    for (const key in record) Object.hasOwn(record, key)
    naiveMerge({}, record)
  }
  // The built-in methods the body's keys shadowed still work everywhere else.
  const fresh: Record<string, unknown> = {}
  if (Object.hasOwn(fresh, 'x') || `${fresh}` !== '[object Object]' || fresh.valueOf() !== fresh) {
    throw new Error('Object.prototype no longer behaves')
  }
}

/**
 * A recursive merge as older lodash, hoek and jQuery wrote it: it follows `__proto__` into
 * Object.prototype, and a function's `prototype` (the mixin-deep path from `constructor`).
 */
function naiveMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(source)) {
    const value = source[key]
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      target[key] = value
      continue
    }
    const current = target[key]
    const follows =
      (typeof current === 'object' && current !== null) ||
      (typeof current === 'function' && Object.hasOwn(value, 'prototype'))
    const into = follows ? (current as Record<string, unknown>) : {}
    if (!follows) target[key] = into
    naiveMerge(into, value as Record<string, unknown>)
  }
}
