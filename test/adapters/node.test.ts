import { createHmac } from 'node:crypto'
import http, { type Server } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createBodyReader, sendProblem } from '../../src/node.js'
import { expectPrototypesUntouched } from '../helpers/app.js'
import { contractOptions, describeContract, served } from './contract.js'

function serve(server: Server) {
  server.listen(0, '127.0.0.1')
  return served(server)
}

/**
 * A server that reads each request with `read` (after `prepare`, which may defer the read)
 * and records what it resolved or rejected with: `{ body }` or `{ status, type }`.
 */
async function recording(
  read: ReturnType<typeof createBodyReader>,
  prepare: (req: http.IncomingMessage, take: () => void) => void = (_req, take) => take(),
) {
  const outcomes: unknown[] = []
  const served = await serve(
    http.createServer((req, res) => {
      const answer = (outcome: unknown) => {
        outcomes.push(outcome)
        res.end()
      }
      prepare(req, () => {
        read(req).then(
          (body) => answer({ body }),
          (err: { status: number; type: string }) => answer({ status: err.status, type: err.type }),
        )
      })
    }),
  )
  return { ...served, outcomes }
}

describeContract('node:http', async () => {
  const read = createBodyReader(contractOptions())
  const server = http.createServer((req, res) => {
    read(req, res).then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ body }))
      },
      (err: unknown) => {
        if (!sendProblem(res, err)) {
          res.writeHead(500)
          res.end()
        }
      },
    )
  })
  return serve(server)
})

describe('safebody/node', () => {
  it('rejects with status and type, and matches routes on the pathname', async () => {
    const read = createBodyReader({ 'POST /n': { type: 'object', required: ['a'] } })
    const { baseUrl, close, outcomes } = await recording(read)
    try {
      const post = (path: string, body: string) =>
        fetch(`${baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
      await post('/n?x=1', '{"a":1}')
      await post('/n', '{"b":1}')
      await post('/other', '{"a":1}')
      expect(outcomes).toEqual([
        { body: { a: 1 } },
        { status: 422, type: 'entity.validation.failed' },
        { status: 415, type: 'route.schema.missing' },
      ])
      expect(read.stats()).toBeDefined()
    } finally {
      close()
    }
  })

  it('refuses a stream it cannot read bytes from: an encoding set (500 stream.encoding.set), already read (500 stream.not.readable)', async () => {
    const read = createBodyReader({ 'POST /': { type: 'object' } })
    const { baseUrl, close, outcomes } = await recording(read, (req, take) => {
      if (req.headers['x-case'] === 'encoding') {
        req.setEncoding('utf8')
        take()
      } else {
        req.on('end', take)
        req.resume()
      }
    })
    try {
      for (const which of ['encoding', 'consumed']) {
        await fetch(baseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-case': which },
          body: '{"a":1}',
        })
      }
      expect(outcomes).toEqual([
        { status: 500, type: 'stream.encoding.set' },
        { status: 500, type: 'stream.not.readable' },
      ])
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })
})

// A node:http app routes by whatever it likes: the path as sent, WHATWG URL's (`new URL(
// req.url, base)`, which resolves dot segments, `%2e`, `\` and a leading `//`), or a router
// that decodes percent-escapes. A request is held to every binding any of those reaches.
describe('a path that routers read otherwise', () => {
  const secret = 'node-paths-secret'
  const github = { preset: 'github', secret } as const
  const read = createBodyReader({
    routes: {
      'POST /hooks/github': { schema: { type: 'object' }, integrity: github },
      'POST /deploy': { schema: true, required: false, integrity: github },
      'POST /café': { type: 'object', required: ['a'] },
      'POST /files/*rest': { type: 'object', required: ['name'] },
      'POST /admin': { type: 'object', required: ['role'] },
      'POST /hooks/:provider': { type: 'object' },
    },
  })
  const sign = (body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

  /** POST `path` as sent (fetch would resolve it first); the answer's status and type. */
  function post(port: number, path: string, body?: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; type?: string; body?: unknown }>((resolve, reject) => {
      const sent = http.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          headers: { ...headers, connection: 'close' },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (text += chunk))
          res.on('end', () => {
            const answer =
              text === '' ? {} : (JSON.parse(text) as { type?: string; body?: unknown })
            resolve({ status: res.statusCode as number, ...answer })
          })
        },
      )
      sent.on('error', reject)
      if (body === undefined) sent.end()
      else sent.end(body)
    })
  }

  async function withServer(check: (port: number) => Promise<void>) {
    const { baseUrl, close } = await serve(
      http.createServer((req, res) => {
        read(req, res).then(
          (body) => {
            res.writeHead(200, { 'content-type': 'application/json' })
            res.end(JSON.stringify({ body }))
          },
          (err: unknown) => sendProblem(res, err),
        )
      }),
    )
    try {
      await check(Number(new URL(baseUrl).port))
    } finally {
      close()
    }
  }

  const json = { 'content-type': 'application/json' }

  it.each([
    '/hooks/./github',
    '/x/../hooks/github',
    '/hooks/%2e/github',
    '/hooks/%67ithub',
    '/hooks\\github',
    '//example.com/hooks/github',
    // path.posix.normalize, find-my-way's ignoreDuplicateSlashes and useSemicolonDelimiter.
    '//hooks/github',
    '/hooks//github',
    '/hooks/github;x',
  ])('holds %s to the signed binding it may reach (401)', async (path) => {
    await withServer(async (port) => {
      const res = await post(port, path, '{"evil":1}', json)
      expect(res).toMatchObject({ status: 401, type: 'entity.signature.missing' })
      const signed = await post(port, path, '{"ok":1}', {
        ...json,
        'x-hub-signature-256': sign('{"ok":1}'),
      })
      expect(signed).toMatchObject({ status: 200, body: { ok: 1 } })
    })
    expectPrototypesUntouched()
  })

  it('holds a bodiless request to the signature of the path it may reach', async () => {
    await withServer(async (port) => {
      expect(await post(port, '/./deploy')).toMatchObject({
        status: 401,
        type: 'entity.signature.missing',
      })
      expect(await post(port, '/deploy/.')).toMatchObject({ status: 401 })
      // `%2F` is kept: no router reads it as a new segment.
      expect(await post(port, '/hooks%2Fgithub', '{}', json)).toMatchObject({
        status: 415,
        type: 'route.schema.missing',
      })
    })
    expectPrototypesUntouched()
  })

  it('binds a key beyond ASCII to its percent-encoded path', async () => {
    await withServer(async (port) => {
      expect(await post(port, '/caf%C3%A9', '{"a":1}', json)).toMatchObject({
        status: 200,
        body: { a: 1 },
      })
      expect(await post(port, '/caf%C3%A9', '{}', json)).toMatchObject({
        status: 422,
        type: 'entity.validation.failed',
      })
    })
    expectPrototypesUntouched()
  })

  it('refuses a body on a path that may reach a route taking none', async () => {
    const reader = createBodyReader({
      openapi: {
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: {
          '/files/{name}/{action}': {
            post: { requestBody: { content: { 'application/json': { schema: {} } } } },
          },
          '/admin': { post: {} },
        },
      },
    })
    const { baseUrl, close } = await serve(
      http.createServer((req, res) => {
        reader(req, res).then(
          (body) => res.end(JSON.stringify({ body })),
          (err: unknown) => sendProblem(res, err),
        )
      }),
    )
    try {
      const port = Number(new URL(baseUrl).port)
      expect(await post(port, '/files/a/b', '{"a":1}', json)).toMatchObject({ status: 200 })
      expect(await post(port, '/files/%2e%2e/admin', '{"a":1}', json)).toMatchObject({
        status: 415,
        type: 'route.schema.missing',
      })
      expect(await post(port, '/files/%2e%2e/admin')).toMatchObject({ status: 200 })
    } finally {
      close()
    }
    expectPrototypesUntouched()
  })

  it('holds a path two bindings may reach to both', async () => {
    await withServer(async (port) => {
      expect(await post(port, '/files/../admin', '{"name":"x"}', json)).toMatchObject({
        status: 422,
        type: 'entity.validation.failed',
      })
      expect(await post(port, '/files/../admin', '{"role":"x"}', json)).toMatchObject({
        status: 422,
        type: 'entity.validation.failed',
      })
      expect(await post(port, '/files/../admin', '{"name":"x","role":"y"}', json)).toMatchObject({
        status: 200,
        body: { name: 'x', role: 'y' },
      })
      expect(await post(port, '/files/a', '{"name":"x"}', json)).toMatchObject({ status: 200 })
    })
    expectPrototypesUntouched()
  })
})
