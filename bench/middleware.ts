/**
 * Middleware micro benchmarks: each body middleware driven in-process by a real
 * IncomingMessage that is fed the body, with no socket and no Express router around it.
 * What is left is exactly what differs between the candidates: reading the stream,
 * decoding, checking, validating. The reference is the cheapest middleware that does the
 * job (collect the chunks, JSON.parse, the compiled ajv validator).
 */
import { IncomingMessage, type ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import express from 'express'
import { safeBody } from '../dist/esm/index.js'
import { baselineValidator } from './lib/ajv.js'
import { orderZod, parseOrder } from './lib/zod.js'
import { bytesLabel } from './lib/stats.js'
import { type Candidate, type MicroRow, type MicroSettings, measureBody } from './micro.js'
import { jsonBody, orderSchema, type Payload } from './payloads.js'

type Next = (err?: unknown) => void
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void

interface Req extends IncomingMessage {
  path: string
  body?: unknown
}

const refused = () => new Error('the validator refused the payload')

function minimal(): Middleware {
  const validate = baselineValidator(orderSchema)
  return (incoming, _res, next) => {
    const req = incoming as Req
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      let value: unknown
      try {
        value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch (err) {
        return next(err)
      }
      if (!validate(value)) return next(refused())
      req.body = value
      next()
    })
  }
}

function expressJson(limit: number): Middleware {
  const validate = baselineValidator(orderSchema)
  const parse = express.json({ limit }) as unknown as Middleware
  return (req, res, next) =>
    parse(req, res, (err) => next(err ?? (validate((req as Req).body) ? undefined : refused())))
}

/** express.json(), then zod on req.body: how zod is used behind a body parser today. */
function expressJsonZod(limit: number): Middleware {
  const parse = express.json({ limit }) as unknown as Middleware
  return (req, res, next) =>
    parse(req, res, (err) => {
      if (err) return next(err)
      const output = parseOrder((req as Req).body)
      if (output === null) return next(refused())
      ;(req as Req).body = output
      next()
    })
}

const drain: Middleware = (req, _res, next) => {
  req.on('data', () => {})
  req.on('end', () => next())
}

/**
 * The candidates, the reference first. The zod pair differs only in what sits in front of
 * the same zod schema: express.json(), or safebody's read, decode and guard.
 */
export function middlewareCandidates(limit: number): Array<[string, Middleware]> {
  return [
    ['collect + JSON.parse + ajv (reference)', minimal()],
    ['drain only (ceiling)', drain],
    ['express.json() + ajv', expressJson(limit)],
    [
      'safeBody',
      safeBody({
        schemas: { order: orderSchema },
        routes: { 'POST /orders': 'order' },
        limit,
      }) as unknown as Middleware,
    ],
    ['express.json() + zod', expressJsonZod(limit)],
    [
      'safeBody + zod',
      safeBody({ routes: { 'POST /orders': orderZod }, limit }) as unknown as Middleware,
    ],
  ]
}

const socket = new Socket()

/** Feed one body through a middleware as a request would arrive: headers, then the bytes. */
export function drive(middleware: Middleware, bytes: Buffer): Promise<unknown> {
  const req = new IncomingMessage(socket) as Req
  req.method = 'POST'
  req.url = '/orders'
  req.path = '/orders'
  req.headers = { 'content-type': 'application/json', 'content-length': String(bytes.length) }
  return new Promise((resolve, reject) => {
    middleware(req, null as unknown as ServerResponse, (err) =>
      err ? reject(err) : resolve(req.body),
    )
    req.push(bytes)
    req.complete = true
    req.push(null)
  })
}

export async function runMiddleware(
  sizes: readonly Payload[],
  settings: MicroSettings,
  log: (line: string) => void = () => {},
): Promise<MicroRow[]> {
  const bodies = sizes.map(jsonBody)
  const limit = Math.max(...bodies.map((b) => b.length)) + 1
  const list: Candidate[] = middlewareCandidates(limit).map(([name, mw]) => ({
    name,
    run: (bytes) => drive(mw, bytes),
  }))
  const rows: MicroRow[] = []
  for (const [i, payload] of sizes.entries()) {
    const bytes = bodies[i] as Buffer
    log(`middleware ${payload.name} (${bytesLabel(bytes.length)})`)
    const candidates = await measureBody(list, bytes, settings)
    rows.push({ format: 'json', payload: payload.name, bytes: bytes.length, candidates })
  }
  return rows
}
