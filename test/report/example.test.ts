import { createHmac } from 'node:crypto'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { app, body, logger } from '../../examples/report-mode.js'
import { expectRefusal } from '../helpers/app.js'
import { tick } from '../helpers/violations.js'

// The report-mode example does what its header says: reports, enforces, checks signatures,
// and exposes the counters to Prometheus.
describe('the report-mode example', () => {
  logger.level = 'silent'
  const json = (path: string, text: string, method: 'post' | 'put' = 'post') =>
    request(app)[method](path).set('Content-Type', 'application/json').send(text)

  it('reports on /users, enforces on PUT /users/:id, and refuses unsigned webhooks', async () => {
    expect((await json('/users', '{"name":1}')).status).toBe(201)
    expectRefusal(await json('/users/7', '{"name":1}', 'put'), 422, 'entity.validation.failed')
    expectRefusal(await json('/hooks/github', '{"ref":"x"}'), 401, 'entity.signature.missing')
    const signature = `sha256=${createHmac('sha256', 'dev-only-secret').update('{"ref":"x"}').digest('hex')}`
    const signed = await json('/hooks/github', '{"ref":"x"}').set('X-Hub-Signature-256', signature)
    expect(signed.status).toBe(200)
    await tick()
    expect(body.stats()).toMatchObject({ refused: 2, reported: 1 })
  })

  it('serves the counters at /metrics', async () => {
    const res = await request(app).get('/metrics')
    expect(res.status).toBe(200)
    expect(res.text).toContain(
      'safebody_violations_total{route="POST /users",format="json",type="entity.validation.failed",action="reported"} 1',
    )
    expect(res.text).toContain(
      'safebody_violations_total{route="POST /hooks/github",format="none",type="entity.signature.missing",action="refused"} 1',
    )
  })
})
