import type { ErrorRequestHandler } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { problemDetails, safeBody } from '../../src/index.js'
import { uploadRefused } from '../adapters/contract.js'
import { expectPrototypesUntouched, frameworks, listen } from '../helpers/app.js'

// A refused body that is still arriving is read and dropped (8 MiB at most) so that the
// connection can be closed in stages after the answer. Until the answer is written, an
// application whose error handler takes its time must not make that reading unbounded.
describe.each(frameworks)('a refused upload behind a slow error handler (%s)', (_name, express) => {
  let close: () => void = () => {}
  let baseUrl = ''
  beforeAll(async () => {
    const app = express()
    app.use(safeBody({ routes: { 'POST /upload': { schema: true, limit: '16kb' } } }))
    app.post('/upload', (_req, res) => {
      res.json({})
    })
    const slow: ErrorRequestHandler = (err, _req, _res, next) => {
      setTimeout(() => next(err), 500)
    }
    app.use(slow, problemDetails())
    const { server, port } = await listen(app)
    baseUrl = `http://127.0.0.1:${port}`
    close = () => {
      server.closeAllConnections()
      server.close()
    }
  })
  afterAll(() => close())

  it('stops reading at 8 MiB while the answer waits, then answers and closes', async () => {
    const { outcome, sent } = await uploadRefused(baseUrl, {
      path: '/upload',
      declared: 256 * 1024 * 1024,
      chunk: Buffer.alloc(256 * 1024, 0x20),
      paceMs: 0,
      sendMs: 10_000,
      readLate: false,
    })
    expect(outcome?.status).toBe(413)
    expect(outcome?.headers.connection).toBe('close')
    expect(outcome?.body).toMatchObject({ type: 'entity.too.large' })
    // In 500 ms the client could have sent it all; the kernels hold a few MiB besides.
    expect(sent).toBeLessThan(32 * 1024 * 1024)
    expectPrototypesUntouched()
  })
})
