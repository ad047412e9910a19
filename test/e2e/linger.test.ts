import { readFileSync } from 'node:fs'
import type { RequestListener } from 'node:http'
import https from 'node:https'
import net, { type AddressInfo } from 'node:net'
import type { ErrorRequestHandler } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { problemDetails, safeBody } from '../../src/index.js'
import { sendAfterAnswer, uploadRefused } from '../adapters/contract.js'
import { parseResponse } from '../hardening/client.js'
import {
  type ExpressFactory,
  expectPrototypesUntouched,
  frameworks,
  listen,
} from '../helpers/app.js'

// A refused body that is still arriving is never read, from the refusal on: not while the
// answer waits for an error handler that takes its time, nor after it, while the connection
// lingers so that the client reads the answer before the close.

const routes = { 'POST /upload': { schema: true, limit: '16kb' } }

/**
 * An app with safebody on `/upload`, a `GET /side` that counts its runs, and `errors` last;
 * over TLS (a self-signed certificate) with `tls`.
 */
async function start(express: ExpressFactory, errors: ErrorRequestHandler[], tls = false) {
  const app = express()
  const side = { runs: 0 }
  app.use(safeBody({ routes }))
  app.post('/upload', (_req, res) => {
    res.json({})
  })
  app.get('/side', (_req, res) => {
    side.runs++
    res.json({})
  })
  if (errors.length > 0) app.use(...errors)
  const { server, port } = tls ? await listenTls(app) : await listen(app)
  const close = () => {
    server.closeAllConnections()
    server.close()
  }
  return { baseUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, port, side, close }
}

/**
 * Send 256 MiB to `/upload` as fast as the connection takes it, for 10 s at most: the answer
 * is a 413 with `Connection: close`, and the connection is closed long before the body could
 * have been read (the kernels' buffers hold a few MiB). Returns the answer.
 */
async function expectUndrained(baseUrl: string) {
  const { outcome, sent, closedAt } = await uploadRefused(baseUrl, {
    path: '/upload',
    declared: 256 * 1024 * 1024,
    chunk: 256 * 1024,
    paceMs: 0,
    sendMs: 10_000,
  })
  expect(outcome?.status).toBe(413)
  expect(outcome?.headers.connection).toBe('close')
  expect(sent).toBeLessThan(32 * 1024 * 1024)
  expect(closedAt).toBeLessThan(5000)
  expectPrototypesUntouched()
  return outcome
}

const fixtures = new URL('../fixtures/tls/', import.meta.url)

function listenTls(app: RequestListener): Promise<{ server: https.Server; port: number }> {
  const key = readFileSync(new URL('key.pem', fixtures))
  const cert = readFileSync(new URL('cert.pem', fixtures))
  const server = https.createServer({ key, cert }, app)
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server, port: (server.address() as AddressInfo).port })
    })
  })
}

describe.each(frameworks)('a refused upload behind a slow error handler (%s)', (_name, express) => {
  let app: Awaited<ReturnType<typeof start>>
  beforeAll(async () => {
    const slow: ErrorRequestHandler = (err, _req, _res, next) => {
      setTimeout(() => next(err), 500)
    }
    app = await start(express, [slow, problemDetails()])
  })
  afterAll(() => app.close())

  it('does not drain the body while the answer waits, then answers and closes', async () => {
    const outcome = await expectUndrained(app.baseUrl)
    expect(outcome?.body).toMatchObject({ type: 'entity.too.large' })
  })

  it('never runs a request pipelined behind the body while the answer waits', async () => {
    const before = app.side.runs
    const head =
      `POST /upload HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
      `content-length: ${32 * 1024}\r\n\r\n`
    const rest = Buffer.concat([
      Buffer.alloc(32 * 1024, 0x20),
      Buffer.from('GET /side HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n'),
    ])
    const started = Date.now()
    const received = await new Promise<Buffer>((resolve) => {
      const socket = net.connect({ port: app.port, host: '127.0.0.1', allowHalfOpen: true })
      const chunks: Buffer[] = []
      let ticking: NodeJS.Timeout | undefined
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      socket.on('error', () => {})
      socket.on('close', () => {
        clearInterval(ticking)
        resolve(Buffer.concat(chunks))
      })
      socket.write(head)
      // The rest of the body and a request behind it, sent long before the answer; then a
      // byte every 50 ms, so that the server's close is seen (a write fails).
      setTimeout(() => {
        socket.write(rest)
        ticking = setInterval(() => socket.write(' '), 50)
      }, 100)
      setTimeout(() => socket.destroy(), 5000).unref()
    })
    expect(Date.now() - started).toBeLessThan(3000)
    const answer = parseResponse(received, true)
    expect(answer?.status).toBe(413)
    expect(answer?.headers.connection).toBe('close')
    expect(answer?.body).toMatchObject({ type: 'entity.too.large' })
    expect(app.side.runs, 'the pipelined request was run').toBe(before)
    // The counter counts: the same request alone runs.
    expect((await fetch(`${app.baseUrl}/side`)).status).toBe(200)
    expect(app.side.runs).toBe(before + 1)
    expectPrototypesUntouched()
  })
})

// Express's final handler (no error handler of the application's) drains a request before it
// answers; a refused one is answered at once instead, and never read.
describe.each(frameworks)('a refused upload with no error handler (%s)', (_name, express) => {
  let app: Awaited<ReturnType<typeof start>>
  beforeAll(async () => {
    app = await start(express, [])
  })
  afterAll(() => app.close())

  it('is answered by the final handler at once, undrained, and closed', async () => {
    await expectUndrained(app.baseUrl)
  })
})

// Over TLS, a client that sends the rest of the body and a request as soon as it sees the
// answer had that request run (1 to 2 in 15 on Node 22 and 24) while reading stopped only
// once the answer was written; it stops at the refusal.
describe('a refused upload over TLS, with a request pipelined after the answer', () => {
  let app: Awaited<ReturnType<typeof start>>
  beforeAll(async () => {
    app = await start(frameworks[0][1], [problemDetails()], true)
  })
  afterAll(() => app.close())

  it('never runs the pipelined request', async () => {
    const declared = 32 * 1024
    const head = Buffer.concat([
      Buffer.from(
        `POST /upload HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
          `content-length: ${declared}\r\n\r\n`,
      ),
      Buffer.alloc(500, 0x20),
    ])
    const rest = Buffer.concat([
      Buffer.alloc(declared - 500, 0x20),
      Buffer.from('GET /side HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n'),
    ])
    const clients = Array.from({ length: 8 }, () => sendAfterAnswer(app.baseUrl, head, rest, true))
    for (const { first, closedAt } of await Promise.all(clients)) {
      expect(first?.status).toBe(413)
      expect(first?.headers.connection).toBe('close')
      expect(first?.body).toMatchObject({ type: 'entity.too.large' })
      expect(closedAt).toBeLessThan(3000)
    }
    await new Promise((next) => setTimeout(next, 100))
    expect(app.side.runs, 'the pipelined request was run').toBe(0)
    expectPrototypesUntouched()
  })
})
