import { createHmac } from 'node:crypto'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks, sendBytes } from '../helpers/app.js'

const secret = Buffer.from('0123456789abcdef0123456789abcdef', 'hex')
const anything = {} as const
const now = () => Math.floor(Date.now() / 1000)

describe.each(frameworks)('a described signature header through %s', (_name, express) => {
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        schemas: { anything },
        integrity: { header: 'X-Signature', secret, algorithm: 'sha512', encoding: 'base64' },
        routes: {
          'POST /sha512': 'anything',
          'POST /timed': {
            schema: 'anything',
            integrity: {
              header: 'x-signature',
              secret: 'service-secret',
              encoding: 'base64url',
              prefix: 'v1:',
              timestampHeader: 'X-Signature-Timestamp',
              tolerance: 60,
            },
          },
          'POST /public': { schema: 'anything', integrity: false },
        },
      }),
    )
    app.post('/sha512', echo)
    app.post('/timed', echo)
    app.post('/public', echo)
  })

  const payload = '{"amount":10}'
  const post = (path: string, headers: Record<string, string>, text = payload) => {
    let test = request(app).post(path).type('json')
    for (const [name, value] of Object.entries(headers)) test = test.set(name, value)
    return sendBytes(test, text)
  }
  const timed = (t: number, key = 'service-secret') =>
    `v1:${createHmac('sha256', key).update(`${t}.${payload}`).digest('base64url')}`

  it('checks a global HMAC-SHA512 in base64', async () => {
    seen.bodies.length = 0
    const good = createHmac('sha512', secret).update(payload).digest('base64')
    expect((await post('/sha512', { 'X-Signature': good })).status).toBe(200)
    const sha256 = createHmac('sha256', secret).update(payload).digest('base64')
    seen.bodies.length = 0
    expectRefusal(
      await post('/sha512', { 'X-Signature': sha256 }),
      401,
      'entity.signature.invalid',
      seen,
    )
    expectRefusal(await post('/sha512', {}), 401, 'entity.signature.missing', seen)
  })

  it('lets a route turn the global check off', async () => {
    expect((await post('/public', {})).status).toBe(200)
  })

  it('signs <timestamp>.<body> when a timestamp header is set', async () => {
    seen.bodies.length = 0
    const t = now()
    const ok = await post('/timed', { 'X-Signature': timed(t), 'X-Signature-Timestamp': String(t) })
    expect(ok.status).toBe(200)
    seen.bodies.length = 0
    expectRefusal(
      await post('/timed', { 'X-Signature': timed(t) }),
      401,
      'entity.signature.missing',
      seen,
    )
    const old = t - 61
    expectRefusal(
      await post('/timed', { 'X-Signature': timed(old), 'X-Signature-Timestamp': String(old) }),
      401,
      'entity.signature.expired',
      seen,
    )
    expectRefusal(
      await post('/timed', { 'X-Signature': timed(t), 'X-Signature-Timestamp': `${t}.5` }),
      401,
      'entity.signature.invalid',
      seen,
    )
    expectRefusal(
      await post('/timed', { 'X-Signature': timed(t - 1), 'X-Signature-Timestamp': String(t) }),
      401,
      'entity.signature.invalid',
      seen,
    )
  })
})

describe('integrity options at start-up', () => {
  const bind = (integrity: unknown) => () =>
    safeBody({ routes: { 'POST /h': { schema: {}, integrity: integrity as never } } })

  it.each([
    ['no secret', { preset: 'github' }, /needs a secret/],
    ['an empty secret', { preset: 'github', secret: '' }, /non-empty/],
    ['secret and secrets', { preset: 'github', secret: 'a', secrets: ['b'] }, /not both/],
    ['an empty secrets list', { preset: 'github', secrets: [] }, /needs a secret/],
    ['an unknown preset', { preset: 'gitlab', secret: 'a' }, /preset must be/],
    [
      'an unknown key',
      { preset: 'github', secret: 'a', tolerence: 5 },
      /unknown option "tolerence"/,
    ],
    ['no header without a preset', { secret: 'a' }, /header must be a header name/],
    ['a bad header name', { header: 'x sig', secret: 'a' }, /header must be a header name/],
    ['a bad algorithm', { header: 'x', secret: 'a', algorithm: 'md5' }, /algorithm/],
    ['a bad encoding', { header: 'x', secret: 'a', encoding: 'latin1' }, /encoding/],
    ['a bad tolerance', { preset: 'stripe', secret: 'a', tolerance: 0 }, /tolerance/],
    [
      'a prefix on the stripe preset',
      { preset: 'stripe', secret: 'a', prefix: 'x' },
      /fixed by the stripe preset/,
    ],
    ['true', true, /must be an object or false/],
  ])('refuses %s', (_what, integrity, message) => {
    expect(bind(integrity)).toThrow(message)
  })

  it('never prints a secret in an error', () => {
    let message = ''
    try {
      bind({ preset: 'github', secret: 'top-secret-value', algorithm: 'md5' })()
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/algorithm/)
    expect(message).not.toContain('top-secret-value')
  })

  it('checks a global integrity option even when no route is bound', () => {
    expect(() => safeBody({ integrity: { preset: 'github' } })).toThrow(/needs a secret/)
  })
})
