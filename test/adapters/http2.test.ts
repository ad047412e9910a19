import { createServer, type Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fastifyPlugin, { problemDetails as fastifyProblems } from '../../src/fastify.js'
import {
  problemDetails as koaProblems,
  safeBody as koaBody,
  validBody as koaValid,
} from '../../src/koa.js'
import { createBodyReader, sendProblem } from '../../src/node.js'
import { expectPrototypesUntouched, http2Post } from '../helpers/app.js'
import { contractUser } from './contract.js'

// HTTP/2 needs no Content-Length: a body is whatever DATA frames the stream carries. Each
// server must read it as it reads an HTTP/1.1 body, never take it for none.
type Started = { port: number; close: () => Promise<void> }

async function listen(server: Http2Server): Promise<Started> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

const servers: Array<[string, () => Promise<Started>]> = [
  [
    'safebody/node',
    () => {
      const read = createBodyReader({ routes: { 'POST /users': contractUser } })
      return listen(
        createServer((req, res) => {
          const incoming = req as unknown as Parameters<typeof read>[0]
          read(incoming).then(
            (body) => {
              res.setHeader('content-type', 'application/json')
              res.end(JSON.stringify({ body: body ?? null }))
            },
            (err: unknown) => {
              const answer = res as unknown as Parameters<typeof sendProblem>[0]
              if (!sendProblem(answer, err)) res.writeHead(500).end()
            },
          )
        }),
      )
    },
  ],
  [
    'safebody/koa',
    () => {
      const app = new Koa()
      app.use(koaProblems())
      app.use(koaBody({ routes: { 'POST /users': contractUser } }))
      app.use((ctx) => {
        ctx.body = { body: koaValid(ctx) ?? null }
      })
      return listen(createServer(app.callback()))
    },
  ],
  [
    'safebody/fastify',
    async () => {
      const app = Fastify({ http2: true })
      await app.register(fastifyPlugin)
      app.setErrorHandler(fastifyProblems())
      app.post('/users', { schema: { body: contractUser } }, (request) => ({
        body: request.body ?? null,
      }))
      await app.listen({ port: 0, host: '127.0.0.1' })
      return {
        port: (app.server.address() as AddressInfo).port,
        close: () => app.close(),
      }
    },
  ],
]

describe.each(servers)('an HTTP/2 body without Content-Length, through %s', (name, start) => {
  let server: Started
  beforeAll(async () => {
    server = await start()
  })
  afterAll(() => server.close())

  it('is read, guarded and validated like any other', async () => {
    const ok = await http2Post(server.port, '/users', '{"name":"a","email":"a@b"}')
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body)).toEqual({ body: { name: 'a', email: 'a@b' } })
    const invalid = await http2Post(server.port, '/users', '{"name":"a"}')
    expect(invalid.status).toBe(422)
    expect(JSON.parse(invalid.body).type).toBe('entity.validation.failed')
    const polluted = await http2Post(
      server.port,
      '/users',
      '{"__proto__":{"polluted":1},"name":"a","email":"a@b"}',
    )
    expect(polluted.status).toBe(400)
    expect(JSON.parse(polluted.body).type).toBe('entity.forbidden.key')
    const malformed = await http2Post(server.port, '/users', '{"name":')
    expect(malformed.status).toBe(400)
    expect(JSON.parse(malformed.body).type).toBe('entity.parse.failed')
    expectPrototypesUntouched()
  })

  it('is none when the stream ends with its headers', async () => {
    const none = await http2Post(server.port, '/users', null)
    // safeBody's global binding lets a bodiless request by; fastify's route schema requires one.
    if (name === 'safebody/fastify') {
      expect(none.status).toBe(400)
      expect(JSON.parse(none.body).type).toBe('entity.missing')
    } else {
      expect(none.status).toBe(200)
      expect(JSON.parse(none.body)).toEqual({ body: null })
    }
  })
})
