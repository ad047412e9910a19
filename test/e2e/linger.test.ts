import type { ErrorRequestHandler } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { problemDetails, safeBody } from '../../src/index.js'
import { uploadRefused } from '../adapters/contract.js'
import { expectPrototypesUntouched, frameworks, listen } from '../helpers/app.js'

// A refused body that is still arriving is never read: not while the answer waits for an
// error handler that takes its time, nor after it, while the connection lingers so that the
// client reads the answer before the close.
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

  it('does not drain the body while the answer waits, then answers and closes', async () => {
    const { outcome, sent, closedAt } = await uploadRefused(baseUrl, {
      path: '/upload',
      declared: 256 * 1024 * 1024,
      chunk: 256 * 1024,
      paceMs: 0,
      sendMs: 10_000,
    })
    expect(outcome?.status).toBe(413)
    expect(outcome?.headers.connection).toBe('close')
    expect(outcome?.body).toMatchObject({ type: 'entity.too.large' })
    // In 1.5 s the client could have sent it all; the kernels' buffers hold a few MiB.
    expect(sent).toBeLessThan(32 * 1024 * 1024)
    expect(closedAt).toBeLessThan(5000)
    expectPrototypesUntouched()
  })
})
