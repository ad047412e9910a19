import { createHmac, randomBytes } from 'node:crypto'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { integrityPolicy, readSignature, verifySignature } from '../../src/core/integrity.js'
import {
  buildApp,
  expectPrototypesUntouched,
  expectRefusal,
  frameworks,
  sendBytes,
} from '../helpers/app.js'

// Standard Webhooks (https://www.standardwebhooks.com): HMAC-SHA256 over
// `<webhook-id>.<webhook-timestamp>.<body>`, keyed by the base64 secret after `whsec_`,
// sent as space-separated `v1,<base64>` entries in `webhook-signature`.

/** The spec's published test vector (also in its reference libraries' tests). */
const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
}

const current = `whsec_${randomBytes(24).toString('base64')}`
const previous = `whsec_${randomBytes(32).toString('base64')}`
const event = {
  type: 'object',
  properties: { type: { type: 'string' } },
  required: ['type'],
} as const

/** The signature computed here, independently of safebody, with node:crypto. */
function sign(id: string, t: number, body: string, secret = current): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${t}.${body}`).digest('base64')}`
}
const now = () => Math.floor(Date.now() / 1000)
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** `v1,<base64 of 32 bytes>=` with the lowest of the last character's two spare bits set. */
function spareBitSet(signature: string): string {
  return signature.replace(/(.)=$/, (_m, c: string) => `${BASE64[BASE64.indexOf(c) + 1]}=`)
}

describe('the spec’s published vector', () => {
  const headers = {
    'webhook-id': vector.id,
    'webhook-timestamp': String(vector.timestamp),
    'webhook-signature': vector.signature,
  }
  const at = vector.timestamp * 1000

  it('verifies, with the secret given with or without whsec_, or as its bytes', () => {
    const secrets = [
      vector.secret,
      vector.secret.slice('whsec_'.length),
      Buffer.from(vector.secret.slice('whsec_'.length), 'base64'),
    ]
    for (const secret of secrets) {
      const policy = integrityPolicy({ preset: 'standard-webhooks', secret }, 'test')
      const claim = readSignature(headers, policy, at)
      expect(claim).toMatchObject({ id: vector.id, timestamp: String(vector.timestamp) })
      expect(() => verifySignature(claim, Buffer.from(vector.body), policy)).not.toThrow()
    }
    // Our own signer agrees with the vector, so the end-to-end tests below test the spec.
    expect(sign(vector.id, vector.timestamp, vector.body, vector.secret)).toBe(vector.signature)
  })

  it('refuses the vector with the body, the id or the timestamp changed', () => {
    const policy = integrityPolicy({ preset: 'standard-webhooks', secret: vector.secret }, 't')
    const refusal = (h: Record<string, string>, body = vector.body) => {
      try {
        verifySignature(readSignature(h, policy, at), Buffer.from(body), policy)
      } catch (error) {
        return (error as { type?: string }).type
      }
      return 'accepted'
    }
    expect(refusal(headers)).toBe('accepted')
    expect(refusal(headers, '{"test": 2432232315}')).toBe('entity.signature.invalid')
    expect(refusal({ ...headers, 'webhook-id': 'msg_other' })).toBe('entity.signature.invalid')
    expect(refusal({ ...headers, 'webhook-timestamp': String(vector.timestamp + 1) })).toBe(
      'entity.signature.invalid',
    )
  })
})

describe.each(frameworks)('Standard Webhooks through %s', (_name, express) => {
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        schemas: { event },
        routes: {
          'POST /hooks': {
            schema: 'event',
            integrity: { preset: 'standard-webhooks', secrets: [current, previous] },
          },
          'POST /hooks/once': {
            schema: 'event',
            integrity: { preset: 'standard-webhooks', secret: current, replay: true },
          },
        },
      }),
    )
    app.post('/hooks', echo)
    app.post('/hooks/once', echo)
  })

  const payload = '{"type":"invoice.paid"}'
  const deliver = (headers: Record<string, string>, text = payload, path = '/hooks') => {
    let test = request(app).post(path).type('json')
    for (const [name, value] of Object.entries(headers)) test = test.set(name, value)
    return sendBytes(test, text)
  }
  const signed = (id: string, t = now(), text = payload, signature = sign(id, t, text)) => ({
    'webhook-id': id,
    'webhook-timestamp': String(t),
    'webhook-signature': signature,
  })
  const reset = () => {
    seen.bodies.length = 0
  }

  it('accepts a delivery signed over id.timestamp.body', async () => {
    reset()
    const res = await deliver(signed('msg_1'))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: JSON.parse(payload) })
  })

  it('accepts several space-separated signatures during key rotation; skips v1a entries', async () => {
    const t = now()
    const bogus = `v1,${randomBytes(32).toString('base64')}`
    const asymmetric = `v1a,${randomBytes(64).toString('base64')}`
    for (const signature of [
      `${bogus} ${sign('msg_2', t, payload)}`,
      `${sign('msg_2', t, payload, previous)} ${bogus}`,
      `${asymmetric} ${sign('msg_2', t, payload, previous)}`,
    ]) {
      reset()
      expect((await deliver(signed('msg_2', t, payload, signature))).status).toBe(200)
    }
  })

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'refuses a delivery without %s: 401 entity.signature.missing',
    async (header) => {
      reset()
      const headers: Record<string, string> = signed('msg_3')
      delete headers[header]
      expectRefusal(await deliver(headers), 401, 'entity.signature.missing', seen)
    },
  )

  it('refuses a changed body, a changed id, a signature under another secret: 401', async () => {
    const t = now()
    const cases: [Record<string, string>, string][] = [
      [signed('msg_4', t), '{"type":"invoice.void"}'],
      [{ ...signed('msg_4', t), 'webhook-id': 'msg_5' }, payload],
      [signed('msg_4', t, payload, sign('msg_4', t, payload, `whsec_${'A'.repeat(32)}`)), payload],
      // The body alone, or without the id: other schemes' payloads do not pass here.
      [
        signed(
          'msg_4',
          t,
          payload,
          `v1,${createHmac('sha256', Buffer.from(current.slice(6), 'base64'))
            .update(`${t}.${payload}`)
            .digest('base64')}`,
        ),
        payload,
      ],
    ]
    for (const [headers, text] of cases) {
      reset()
      expectRefusal(await deliver(headers, text), 401, 'entity.signature.invalid', seen)
    }
  })

  it('refuses malformed headers: 401 entity.signature.invalid', async () => {
    const t = now()
    for (const headers of [
      {
        ...signed('msg_6', t),
        'webhook-signature': 'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      },
      { ...signed('msg_6', t), 'webhook-signature': `v1a,${randomBytes(64).toString('base64')}` },
      { ...signed('msg_6', t), 'webhook-signature': 'v1,not*base64' },
      { ...signed('msg_6', t), 'webhook-signature': `v1,${randomBytes(16).toString('base64')}` },
      // The right digest, spelled with a spare bit set in its last base64 character: Node's
      // decoder ignores such bits, so only the one spelling of the digest is taken.
      {
        ...signed('msg_6', t),
        'webhook-signature': spareBitSet(sign('msg_6', t, payload)),
      },
      { ...signed('msg_6', t), 'webhook-timestamp': `${t}.5` },
      { ...signed('msg_6', t), 'webhook-id': 'msg 6' },
    ]) {
      reset()
      expectRefusal(await deliver(headers), 401, 'entity.signature.invalid', seen)
    }
  })

  it('refuses a timestamp more than five minutes away: 401 entity.signature.expired', async () => {
    // A future timestamp comes closer while the request is under way: a few seconds of margin
    // (at 301 it passed once a second ticked over on a loaded machine).
    for (const t of [now() - 301, now() + 305]) {
      reset()
      const res = await deliver(signed('msg_7', t))
      expectRefusal(res, 401, 'entity.signature.expired', seen)
      expect(res.body.detail).toContain('integrity.tolerance')
    }
  })

  it('with replay on, webhook-id is the key: a redelivery of the same id is 409, even re-signed later', async () => {
    reset()
    const id = `msg_${randomBytes(8).toString('hex')}`
    expect((await deliver(signed(id), payload, '/hooks/once')).status).toBe(200)
    reset()
    expectRefusal(
      await deliver(signed(id), payload, '/hooks/once'),
      409,
      'entity.signature.replayed',
      seen,
    )
    // A sender's retry carries the same id with a fresh timestamp and signature.
    expectRefusal(
      await deliver(signed(id, now() + 2), payload, '/hooks/once'),
      409,
      'entity.signature.replayed',
      seen,
    )
    expect((await deliver(signed(`${id}x`), payload, '/hooks/once')).status).toBe(200)
  })
})

describe('standard-webhooks options at start-up', () => {
  it.each([
    [{ secret: 'not base64!' }, /a standard-webhooks secret is base64/],
    [{ secret: 'whsec_' }, /a standard-webhooks secret is base64/],
    [{ secret: current, header: 'x-signature' }, /header is fixed by the standard-webhooks preset/],
    [{ secret: current, algorithm: 'sha512' }, /algorithm is fixed by the standard-webhooks/],
    [{ secret: current, timestampHeader: 'x-t' }, /timestampHeader is fixed by the standard/],
    [
      { secret: current, preset: 'svix' },
      /preset must be 'github', 'stripe' or 'standard-webhooks'/,
    ],
  ])('refuses %o, never printing the secret', (integrity, message) => {
    const start = () =>
      safeBody({
        schemas: { event },
        routes: {
          'POST /hooks': {
            schema: 'event',
            integrity: { preset: 'standard-webhooks', ...integrity } as never,
          },
        },
      })
    expect(start).toThrow(message)
    expect(start).not.toThrow(current.slice(6))
    expectPrototypesUntouched()
  })
})
