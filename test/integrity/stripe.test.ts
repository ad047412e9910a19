import { createHmac } from 'node:crypto'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks, sendBytes } from '../helpers/app.js'

const secret = 'whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH'
const rolled = 'whsec_test_rolled_9a8b7c'
const event = {
  type: 'object',
  properties: { id: { type: 'string' }, type: { type: 'string' } },
  required: ['id', 'type'],
} as const

const now = () => Math.floor(Date.now() / 1000)

/** Stripe's scheme, computed here independently: HMAC-SHA256 of `<t>.<body>`, hex. */
function v1(body: string, t: number, key = secret): string {
  return createHmac('sha256', key).update(`${t}.${body}`).digest('hex')
}

describe.each(frameworks)('Stripe-style signatures through %s', (_name, express) => {
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        schemas: { event },
        routes: {
          'POST /stripe': { schema: 'event', integrity: { preset: 'stripe', secret } },
          'POST /stripe/rotating': {
            schema: 'event',
            integrity: { preset: 'stripe', secrets: [secret, rolled] },
          },
          'POST /stripe/strict': {
            schema: 'event',
            integrity: { preset: 'stripe', secret, tolerance: 10 },
          },
        },
      }),
    )
    app.post('/stripe', echo)
    app.post('/stripe/rotating', echo)
    app.post('/stripe/strict', echo)
  })

  const payload = '{"id":"evt_1","type":"payment_intent.succeeded"}'
  const deliver = (header: string | undefined, text = payload, path = '/stripe') => {
    const test = request(app).post(path).type('json')
    return sendBytes(header === undefined ? test : test.set('Stripe-Signature', header), text)
  }
  function reset() {
    seen.bodies.length = 0
  }

  it('accepts t=<now>,v1=<hmac of t.body>', async () => {
    reset()
    const t = now()
    const res = await deliver(`t=${t},v1=${v1(payload, t)}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: JSON.parse(payload) })
  })

  it('accepts a header listing several signatures when one matches, and ignores v0', async () => {
    reset()
    const t = now()
    const header = `t=${t},v1=${v1(payload, t, 'other')},v1=${v1(payload, t)},v0=${'0'.repeat(64)}`
    expect((await deliver(header)).status).toBe(200)
  })

  it('accepts the rolled secret alongside the current one', async () => {
    reset()
    const t = now()
    expect(
      (await deliver(`t=${t},v1=${v1(payload, t, rolled)}`, payload, '/stripe/rotating')).status,
    ).toBe(200)
    reset()
    expectRefusal(
      await deliver(`t=${t},v1=${v1(payload, t, rolled)}`),
      401,
      'entity.signature.invalid',
      seen,
    )
  })

  it('refuses a missing header: 401 entity.signature.missing', async () => {
    reset()
    expectRefusal(await deliver(undefined), 401, 'entity.signature.missing', seen)
  })

  it('refuses a replay of an old delivery: 401 entity.signature.expired', async () => {
    reset()
    const old = now() - 301
    expectRefusal(
      await deliver(`t=${old},v1=${v1(payload, old)}`),
      401,
      'entity.signature.expired',
      seen,
    )
    const future = now() + 3600
    expectRefusal(
      await deliver(`t=${future},v1=${v1(payload, future)}`),
      401,
      'entity.signature.expired',
      seen,
    )
  })

  it('applies a tolerance set on the route', async () => {
    reset()
    const t = now() - 60
    expectRefusal(
      await deliver(`t=${t},v1=${v1(payload, t)}`, payload, '/stripe/strict'),
      401,
      'entity.signature.expired',
      seen,
    )
  })

  it('refuses an old signature presented with a fresh timestamp', async () => {
    reset()
    const old = now() - 3600
    expectRefusal(
      await deliver(`t=${now()},v1=${v1(payload, old)}`),
      401,
      'entity.signature.invalid',
      seen,
    )
  })

  it('refuses a signature over the body alone, without the timestamp', async () => {
    reset()
    const bodyOnly = createHmac('sha256', secret).update(payload).digest('hex')
    expectRefusal(await deliver(`t=${now()},v1=${bodyOnly}`), 401, 'entity.signature.invalid', seen)
  })

  it('refuses a body changed after signing', async () => {
    reset()
    const t = now()
    const tampered = payload.replace('evt_1', 'evt_2')
    expectRefusal(
      await deliver(`t=${t},v1=${v1(payload, t)}`, tampered),
      401,
      'entity.signature.invalid',
      seen,
    )
  })

  it.each([
    ['no timestamp', () => `v1=${v1(payload, now())}`],
    ['no v1 signature', () => `t=${now()},v0=${'0'.repeat(64)}`],
    ['a timestamp that is not a number', () => `t=soon,v1=${v1(payload, now())}`],
    ['two timestamps', () => `t=${now()},t=${now()},v1=${v1(payload, now())}`],
    ['an item without =', () => `t=${now()},v1`],
    ['a signature that is not hex', () => `t=${now()},v1=${'g'.repeat(64)}`],
    [
      'a valid signature with one hex digit too many',
      () => {
        const t = now()
        return `t=${t},v1=${v1(payload, t)}a`
      },
    ],
    ['too many signatures', () => `t=${now()}${`,v1=${'0'.repeat(64)}`.repeat(9)}`],
  ])('refuses a malformed header: %s', async (_what, header) => {
    reset()
    expectRefusal(await deliver(header()), 401, 'entity.signature.invalid', seen)
  })
})
