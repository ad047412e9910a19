import { createHmac } from 'node:crypto'
import express5, { type Request, type Response } from 'express'
import express4 from 'express4'
import { describe, expect, it } from 'vitest'
import { memoryReplayStore, problemDetails, safeBody } from '../../src/index.js'
import { expectPrototypesUntouched, untilClosed } from '../helpers/app.js'
import {
  contractGetPath,
  contractLimited,
  contractOptions,
  contractPaths,
  contractUser,
  contractUserStrict,
  describeContract,
  expectBodilessBehindParser,
  parserFirstRoutes,
  expectHeldToBoth,
  served,
} from './contract.js'

// The reference adapter answers the contract: the statuses and types every other adapter
// matches. On Express 5 and Express 4 alike.
for (const [name, express] of [
  ['express 5', express5],
  ['express 4', express4],
] as const) {
  describeContract(name, async () => {
    const app = express()
    app.use(safeBody(contractOptions()))
    for (const path of contractPaths) app.post(path, (req, res) => res.json({ body: req.body }))
    app.get(contractGetPath, (req, res) => res.json({ body: req.body }))
    app.use(problemDetails())
    return served(app.listen(0, '127.0.0.1'))
  })
}

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)('safeBody on %s', (_name, express) => {
  it('a per-route instance after a global one takes the body once, held to both', async () => {
    const app = express()
    app.use(safeBody({ 'POST /users': contractUser, 'POST /limited': { type: 'object' } }))
    const echo = (req: Request, res: Response) => res.json({ body: req.body })
    app.post('/users', safeBody().route(contractUserStrict), echo)
    app.post('/limited', safeBody().route(contractLimited), echo)
    app.use(problemDetails())
    const { baseUrl, close } = await served(app.listen(0, '127.0.0.1'))
    try {
      await expectHeldToBoth(baseUrl)
    } finally {
      close()
    }
  })

  // Express's own express.json() (body-parser 1 on Express 4, 2 on Express 5) behind a global
  // instance: the global one takes a bodiless request on its bindings, so the parser makes
  // nothing of it. A per-route instance after a parser that read one lost nothing to check.
  it('a per-route instance after express.json() takes a bodiless request as bodiless, not a 500', async () => {
    const echo = (req: Request, res: Response) => res.json({ body: req.body ?? null })
    const behindGlobal = express()
    behindGlobal.use(
      safeBody({
        'POST /users': contractUser,
        'POST /required': contractUser,
        'POST /global': contractUser,
      }),
    )
    behindGlobal.use(express.json())
    behindGlobal.post('/global', echo)
    behindGlobal.post(
      '/users',
      safeBody().route({ schema: contractUserStrict, required: false }),
      echo,
    )
    behindGlobal.post('/required', safeBody().route(contractUserStrict), echo)
    behindGlobal.use(problemDetails())
    // express.json() before any instance reads a body first: that one is lost.
    const alone = express()
    alone.use(express.json())
    alone.use(safeBody(parserFirstRoutes))
    for (const path of ['/users', '/watched', '/open']) alone.post(path, echo)
    alone.use(problemDetails())
    const servers = [
      await served(behindGlobal.listen(0, '127.0.0.1')),
      await served(alone.listen(0, '127.0.0.1')),
    ]
    const [first, second] = servers.map(({ baseUrl }) => baseUrl) as [string, string]
    try {
      await expectBodilessBehindParser(first, second)
    } finally {
      for (const { close } of servers) close()
    }
  })

  it('holds an empty body the global instance read to the per-route binding too', async () => {
    const secret = 'empty-secret'
    // One replay store for both instances: the global one's claim is the per-route one's.
    const signed = { preset: 'github', secret, replay: { store: memoryReplayStore() } } as const
    const app = express()
    app.use(
      safeBody({
        routes: {
          'POST /typed': { schema: true, formats: ['json', 'text'] },
          'POST /signed': { schema: true, integrity: signed },
        },
      }),
    )
    const echo = (req: Request, res: Response) => res.json({ body: req.body ?? null })
    const typed = { schema: true, formats: ['json'], required: false } as const
    app.post('/typed', safeBody().route(typed), echo)
    app.post(
      '/signed',
      safeBody().route({ schema: true, integrity: signed, required: false }),
      echo,
    )
    app.use(problemDetails())
    const { baseUrl, close } = await served(app.listen(0, '127.0.0.1'))
    const { port } = new URL(baseUrl)
    const send = (path: string, head: string, body = '') =>
      untilClosed(
        Number(port),
        `POST ${path} HTTP/1.1\r\nHost: x\r\n${head}Connection: close\r\n\r\n${body}`,
      )
    const chunkedEmpty = ['Transfer-Encoding: chunked\r\n', '0\r\n\r\n'] as const
    const emptySignature = `sha256=${createHmac('sha256', secret).update('').digest('hex')}`
    try {
      // text/plain is the global binding's, not the per-route one's: 415 as on its own.
      const text = await send(
        '/typed',
        `Content-Type: text/plain\r\n${chunkedEmpty[0]}`,
        chunkedEmpty[1],
      )
      expect(text).toMatch(/^HTTP\/1\.1 415 /)
      expect(text).toContain('"type":"content.type.unsupported"')
      const untyped = await send('/typed', chunkedEmpty[0], chunkedEmpty[1])
      expect(untyped).toMatch(/^HTTP\/1\.1 200 /)
      expect(untyped).toContain('{"body":null}')
      // No body at all, signed over nothing: the global instance checked the signature and
      // claimed the delivery, which the per-route one does not claim again.
      const delivery = (id: string) =>
        `X-Hub-Signature-256: ${emptySignature}\r\nX-GitHub-Delivery: ${id}\r\nContent-Length: 0\r\n`
      const none = await send('/signed', delivery('d1'))
      expect(none).toMatch(/^HTTP\/1\.1 200 /)
      const again = await send('/signed', delivery('d1'))
      expect(again).toMatch(/^HTTP\/1\.1 409 /)
      expect(again).toContain('"type":"entity.signature.replayed"')
      const unsigned = await send('/signed', 'Content-Length: 0\r\n')
      expect(unsigned).toMatch(/^HTTP\/1\.1 401 /)
      expect(unsigned).toContain('"type":"entity.signature.missing"')
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })
})
