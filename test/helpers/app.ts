import type { Server } from 'node:http'
import { connect as http2Connect } from 'node:http2'
import { type AddressInfo, connect } from 'node:net'
import express5, { type Express, type RequestHandler } from 'express'
import express4 from 'express4'
import type request from 'supertest'
import { expect } from 'vitest'
import { problemDetails } from '../../src/index.js'

/** Both Express majors the package supports; end-to-end suites run once per entry. */
export const frameworks = [
  ['express 5', express5],
  ['express 4', express4],
] as const

export type ExpressFactory = (typeof frameworks)[number][1]

/** What the app saw: the bodies handlers received and the errors passed to next(err). */
export interface Recorder {
  bodies: unknown[]
  errors: unknown[]
}

/**
 * A real Express app: `mount` installs the middleware under test and routes; every route
 * it adds with `echo` answers 200 with the body it received. Errors are recorded, then
 * rendered by problemDetails().
 */
export function buildApp(
  express: ExpressFactory,
  mount: (app: Express, echo: RequestHandler) => void,
): { app: Express; seen: Recorder } {
  const seen: Recorder = { bodies: [], errors: [] }
  const app = express() as Express
  const echo: RequestHandler = (req, res) => {
    seen.bodies.push(req.body)
    res.status(200).json({ body: req.body === undefined ? '<undefined>' : req.body })
  }
  mount(app, echo)
  app.use(((err, _req, _res, next) => {
    seen.errors.push(err)
    next(err)
  }) as express5.ErrorRequestHandler)
  app.use(problemDetails())
  return { app, seen }
}

/** Listen on 127.0.0.1 on a free port; for tests that need a raw socket. */
export async function listen(app: Express): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve({ server, port: (server.address() as AddressInfo).port })
    })
  })
}

const builtins: Array<[string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['Boolean.prototype', Boolean.prototype],
  ['Object', Object],
]

function describeBuiltins(): Record<string, string[]> {
  return Object.fromEntries(
    builtins.map(([name, target]) => [
      name,
      Reflect.ownKeys(target)
        .map((k) => String(k))
        .sort(),
    ]),
  )
}

const pristine = describeBuiltins()

/**
 * Assert that no built-in prototype gained, lost or changed a key since the test process
 * started, and that a fresh object inherits nothing enumerable.
 */
/** A closed object with one required integer, `{ x: 1 }`: the fastify suites' route schema. */
export const point = {
  type: 'object',
  properties: { x: { type: 'integer' } },
  required: ['x'],
  additionalProperties: false,
} as const

export function expectPrototypesUntouched(): void {
  expect(describeBuiltins()).toEqual(pristine)
  const fresh: Record<string, unknown> = {}
  for (const key in fresh) expect.fail(`a fresh object inherits "${key}"`)
  expect(Object.getPrototypeOf(fresh)).toBe(Object.prototype)
}

/** Assert a refusal: status, problem type, problem+json, prototypes untouched, handler not run. */
export function expectRefusal(
  res: { status: number; body: unknown; headers: Record<string, string> },
  status: number,
  type: string,
  seen?: Recorder,
): void {
  expect(res.status).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(res.body).toMatchObject({ type, status })
  if (seen) expect(seen.bodies).toEqual([])
  expectPrototypesUntouched()
}

/**
 * Send exactly these bytes. superagent JSON-serializes a Buffer sent with a JSON content
 * type (as `{"type":"Buffer","data":[...]}`), which would test something else entirely.
 */
export function sendBytes(test: request.Test, body: string | Buffer): request.Test {
  return test.serialize((raw: unknown) => raw as string).send(body)
}

/**
 * Write `request` as is on a raw socket to 127.0.0.1:`port`, and resolve with everything the
 * server wrote once it closes the connection (for refusals that must close it); rejects if it
 * is still open after 5 s.
 */
export function untilClosed(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request))
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    // A reset after the server refused mid-body is expected; close decides.
    socket.on('error', () => undefined)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.setTimeout(5000, () => {
      socket.destroy()
      reject(new Error('the server left the connection open'))
    })
  })
}

/**
 * POST `body` over HTTP/2 (prior knowledge, no TLS) to 127.0.0.1:`port` with a JSON content
 * type and no content-length, as HTTP/2 allows; `null` ends the stream with the headers.
 */
export function http2Post(
  port: number,
  path: string,
  body: string | null,
  method = 'POST',
  type: string | null = 'application/json',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`http://127.0.0.1:${port}`)
    session.on('error', reject)
    const headers = {
      ':method': method,
      ':path': path,
      ...(type === null ? {} : { 'content-type': type }),
    }
    const stream = session.request(headers, { endStream: body === null })
    let status = 0
    const chunks: Buffer[] = []
    stream.on('response', (answer) => {
      status = Number(answer[':status'])
    })
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      session.close()
      resolve({ status, body: Buffer.concat(chunks).toString('utf8') })
    })
    stream.on('error', reject)
    if (body !== null) stream.end(body)
  })
}
