import type { Server } from 'node:http'
import { connect } from 'node:net'
import bodyParserOriginal from 'body-parser'
import type { ErrorRequestHandler, Express, RequestHandler } from 'express'
import { afterAll, expect } from 'vitest'
import ours from '../../src/body-parser/index.js'
import type { ExpressFactory } from '../helpers/app.js'
import { listen } from '../helpers/app.js'

export type ParserName = 'json' | 'raw' | 'text' | 'urlencoded'
type Middleware = RequestHandler

/** What a request led to, in a form two apps can be compared by. */
export interface Outcome {
  status: number
  /** The handler's view of req.body, or the error's properties. */
  result: Record<string, unknown>
}

export interface RawRequest {
  method?: string
  path?: string
  headers?: Record<string, string>
  body?: Buffer | string
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean
  /** Send no Content-Length or Transfer-Encoding even with a body of zero bytes. */
  noLength?: boolean
}

function describeBody(body: unknown): Record<string, unknown> {
  if (body === undefined) return { kind: 'undefined' }
  if (Buffer.isBuffer(body)) return { kind: 'buffer', hex: body.toString('hex') }
  if (typeof body !== 'object' || body === null) return { kind: typeof body, value: body }
  const proto = Object.getPrototypeOf(body)
  return {
    kind: Array.isArray(body) ? 'array' : proto === Object.prototype ? 'object' : 'other',
    value: body,
    keys: Object.keys(body),
  }
}

const errorProps = ['limit', 'length', 'received', 'expected', 'charset', 'encoding'] as const

/** The properties of an error that body-parser documents, plus its class and body. */
export function describeError(err: Record<string, unknown> & Error): Record<string, unknown> {
  const out: Record<string, unknown> = {
    error: true,
    status: err.status,
    statusCode: err.statusCode,
    expose: err.expose,
    type: err.type,
    message: err.message,
    name: err.name,
    syntaxError: err instanceof SyntaxError,
    hasBody: 'body' in err,
    body: Buffer.isBuffer(err.body) ? { hex: err.body.toString('hex') } : err.body,
  }
  for (const key of errorProps) out[key] = err[key]
  return out
}

/** An app with one parser, a handler that reports req.body, and an error reporter. */
export function parserApp(express: ExpressFactory, ...parsers: Middleware[]): Express {
  const app = express() as Express
  for (const parser of parsers) app.use(parser)
  app.use(((req, res) => {
    res.status(200).json({ ...describeBody(req.body), bodyProp: 'body' in req })
  }) as RequestHandler)
  app.use(((err, _req, res, _next) => {
    res.status(typeof err.status === 'number' ? err.status : 500).json(describeError(err))
  }) as ErrorRequestHandler)
  return app
}

const servers: Server[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
})

/** Listen once per app; reused across requests. */
export async function serve(app: Express): Promise<number> {
  const { server, port } = await listen(app)
  servers.push(server)
  return port
}

/**
 * Send one request over a raw socket, headers exactly as given (no client adds or
 * rewrites any), and read the response to the end.
 */
export function send(port: number, req: RawRequest): Promise<Outcome> {
  const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body
  const lines = [`${req.method ?? 'POST'} ${req.path ?? '/'} HTTP/1.1`, 'Host: localhost']
  lines.push('Connection: close')
  for (const [name, value] of Object.entries(req.headers ?? {})) lines.push(`${name}: ${value}`)
  if (body !== undefined && !req.noLength) {
    lines.push(req.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`)
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  let payload = body ?? Buffer.alloc(0)
  if (req.chunked && body !== undefined) {
    const chunk =
      body.length > 0
        ? [Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]
        : []
    payload = Buffer.concat([...chunk, Buffer.from('0\r\n\r\n')])
  }
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const status = Number(text.slice(9, 12))
      const start = text.indexOf('\r\n\r\n')
      let bodyText = text.slice(start + 4)
      if (/transfer-encoding: chunked/i.test(text.slice(0, start))) bodyText = unchunk(bodyText)
      try {
        resolve({ status, result: JSON.parse(bodyText) })
      } catch {
        resolve({ status, result: { raw: bodyText } })
      }
    })
    socket.write(Buffer.concat([head, payload]))
  })
}

function unchunk(text: string): string {
  let out = ''
  let rest = text
  for (;;) {
    const eol = rest.indexOf('\r\n')
    const size = Number.parseInt(rest.slice(0, eol), 16)
    if (!size) return out
    out += rest.slice(eol + 2, eol + 2 + size)
    rest = rest.slice(eol + 4 + size)
  }
}

type Factory = (options?: Record<string, unknown>) => Middleware

const original = bodyParserOriginal as unknown as Record<ParserName, Factory>
const safe = ours as unknown as Record<ParserName, Factory>

/** body-parser's factory and ours for a parser, ours with err.body on for comparison. */
export function pair(name: ParserName, options?: Record<string, unknown>) {
  return {
    theirs: original[name](options),
    ours: safe[name]({ ...options, errorBody: true }),
  }
}

/**
 * Run `requests` through body-parser and through ours (same parser, same options) in the
 * given Express, and expect the same status and the same result for each. Returns ours.
 */
export async function same(
  express: ExpressFactory,
  name: ParserName,
  options: Record<string, unknown> | undefined,
  request: RawRequest,
): Promise<Outcome> {
  const { theirs, ours: mine } = pair(name, options)
  const [a, b] = await Promise.all([
    serve(parserApp(express, theirs)),
    serve(parserApp(express, mine)),
  ])
  const expected = await send(a, request)
  const actual = await send(b, request)
  expect(actual).toEqual(expected)
  return actual
}

/** Both outcomes, for the cases where ours deliberately differs. */
export async function both(
  express: ExpressFactory,
  name: ParserName,
  options: Record<string, unknown> | undefined,
  request: RawRequest,
): Promise<{ theirs: Outcome; ours: Outcome }> {
  const { theirs, ours: mine } = pair(name, options)
  const [a, b] = await Promise.all([
    serve(parserApp(express, theirs)),
    serve(parserApp(express, mine)),
  ])
  return { theirs: await send(a, request), ours: await send(b, request) }
}
