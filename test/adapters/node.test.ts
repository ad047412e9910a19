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
