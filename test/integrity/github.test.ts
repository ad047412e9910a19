import { createHmac } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { gzipSync } from 'node:zlib'
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
import { eventRecorder, tick } from '../helpers/violations.js'

const secret = 'whsec-github-test'
const previous = 'whsec-github-previous'
const pushEvent = {
  type: 'object',
  properties: { ref: { type: 'string' }, size: { type: 'integer' } },
  required: ['ref'],
} as const

/** GitHub's scheme, computed here independently: HMAC-SHA256 of the body, hex, `sha256=`. */
function sign(body: string | Buffer, key = secret): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`
}

describe('GitHub preset against GitHub’s published example', () => {
  it('accepts the signature from GitHub’s documentation', () => {
    // docs.github.com, "Validating webhook deliveries": secret, payload and expected header.
    const policy = integrityPolicy(
      { preset: 'github', secret: "It's a Secret to Everybody" },
      'test',
    )
    const req = {
      headers: {
        'x-hub-signature-256':
          'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
      },
    } as unknown as IncomingMessage
    const claim = readSignature(req.headers, policy)
    expect(() => verifySignature(claim, Buffer.from('Hello, World!'), policy)).not.toThrow()
    expect(() => verifySignature(claim, Buffer.from('Hello, World?'), policy)).toThrow(
      expect.objectContaining({ type: 'entity.signature.invalid', status: 401 }),
    )
  })
})

describe.each(frameworks)('GitHub-style signatures through %s', (_name, express) => {
  const { events, onViolation } = eventRecorder()
  const body = safeBody({
    schemas: { push: pushEvent },
    routes: {
      'POST /hooks/github': { schema: 'push', integrity: { preset: 'github', secret } },
      'POST /hooks/rotating': {
        schema: 'push',
        integrity: { preset: 'github', secrets: [secret, previous] },
      },
      'POST /hooks/watched': {
        schema: 'push',
        mode: 'report',
        integrity: { preset: 'github', secret },
      },
      'POST /api/items': 'push',
    },
    onViolation,
  })
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(body)
    app.post('/hooks/github', echo)
    app.post('/hooks/rotating', echo)
    app.post('/hooks/watched', echo)
    app.post('/api/items', echo)
  })

  const payload = '{"ref":"refs/heads/main","size":3}'
  const deliver = (path: string, text: string | Buffer, signature?: string) => {
    let test = request(app).post(path).type('json')
    if (signature !== undefined) test = test.set('X-Hub-Signature-256', signature)
    return sendBytes(test, text)
  }
  function reset() {
    seen.bodies.length = 0
    events.length = 0
  }

  it('accepts a body signed with the secret', async () => {
    reset()
    const res = await deliver('/hooks/github', payload, sign(payload))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: JSON.parse(payload) })
  })

  it('refuses an unsigned body: 401 entity.signature.missing', async () => {
    reset()
    expectRefusal(await deliver('/hooks/github', payload), 401, 'entity.signature.missing', seen)
    expectRefusal(
      await deliver('/hooks/github', payload, '  '),
      401,
      'entity.signature.missing',
      seen,
    )
    await tick()
    expect(events).toMatchObject([
      {
        action: 'refused',
        type: 'entity.signature.missing',
        status: 401,
        route: 'POST /hooks/github',
      },
      { action: 'refused', type: 'entity.signature.missing' },
    ])
  })

  it('refuses a body signed with another secret: 401 entity.signature.invalid', async () => {
    reset()
    const res = await deliver('/hooks/github', payload, sign(payload, 'not-the-secret'))
    expectRefusal(res, 401, 'entity.signature.invalid', seen)
  })

  it('refuses a body changed after signing', async () => {
    reset()
    const tampered = payload.replace('main', 'evil')
    expectRefusal(
      await deliver('/hooks/github', tampered, sign(payload)),
      401,
      'entity.signature.invalid',
      seen,
    )
  })

  it.each([
    ['no prefix', () => sign(payload).slice('sha256='.length)],
    ['a sha1 prefix', () => sign(payload).replace('sha256=', 'sha1=')],
    ['non-hex digits', () => `sha256=${'z'.repeat(64)}`],
    ['a short digest', () => sign(payload).slice(0, -2)],
    ['a long digest', () => `${sign(payload)}00`],
    // Node's hex decoder drops an odd last digit: the digest alone is the signature.
    ['one hex digit too many', () => `${sign(payload)}f`],
    ['two signatures', () => `${sign(payload)}, ${sign(payload)}`],
  ])('refuses a malformed signature header: %s', async (_what, header) => {
    reset()
    expectRefusal(
      await deliver('/hooks/github', payload, header()),
      401,
      'entity.signature.invalid',
      seen,
    )
  })

  it('accepts any of several secrets, for rotation', async () => {
    reset()
    expect((await deliver('/hooks/rotating', payload, sign(payload, secret))).status).toBe(200)
    expect((await deliver('/hooks/rotating', payload, sign(payload, previous))).status).toBe(200)
    expectRefusal(
      await deliver('/hooks/rotating', payload, sign(payload, 'retired')),
      401,
      'entity.signature.invalid',
    )
  })

  it('signs the body as read after inflation, not the compressed bytes', async () => {
    reset()
    const gzipped = gzipSync(payload)
    const inflatedSigned = await sendBytes(
      request(app)
        .post('/hooks/github')
        .type('json')
        .set('Content-Encoding', 'gzip')
        .set('X-Hub-Signature-256', sign(payload)),
      gzipped,
    )
    expect(inflatedSigned.status).toBe(200)
    const wireSigned = await sendBytes(
      request(app)
        .post('/hooks/github')
        .type('json')
        .set('Content-Encoding', 'gzip')
        .set('X-Hub-Signature-256', sign(gzipped)),
      gzipped,
    )
    expectRefusal(wireSigned, 401, 'entity.signature.invalid')
  })

  it('checks the signature of a body that arrives in chunks, as of any other', async () => {
    // 300 kB reach the server in several reads: the path that joins chunks for decoding.
    const { app: large, seen: got } = buildApp(express, (app, echo) => {
      app.use(
        safeBody({
          routes: {
            'POST /hooks/large': {
              schema: pushEvent,
              limit: '1mb',
              integrity: { preset: 'github', secret },
            },
          },
        }),
      )
      app.post('/hooks/large', echo)
    })
    const big = JSON.stringify({ ref: `refs/heads/${'b'.repeat(300_000)}` })
    const send = (text: string, signature: string) =>
      sendBytes(
        request(large).post('/hooks/large').type('json').set('X-Hub-Signature-256', signature),
        text,
      )
    expect((await send(big, sign(big))).status).toBe(200)
    got.bodies.length = 0
    const tampered = big.replace('refs/heads/b', 'refs/heads/e')
    expectRefusal(await send(tampered, sign(big)), 401, 'entity.signature.invalid', got)
  })

  it('checks the signature before the Content-Type and before reading', async () => {
    reset()
    const res = await sendBytes(request(app).post('/hooks/github').type('text/plain'), 'hello')
    expectRefusal(res, 401, 'entity.signature.missing', seen)
  })

  it('checks the signature before decoding: a malformed signed body is a 400', async () => {
    reset()
    expectRefusal(
      await deliver('/hooks/github', '{"ref":', sign('{"ref":')),
      400,
      'entity.parse.failed',
    )
    expectRefusal(
      await deliver('/hooks/github', '{"ref":', sign('{"ref"')),
      401,
      'entity.signature.invalid',
    )
  })

  it('requires a signature over the empty body on a bodiless request', async () => {
    reset()
    expectRefusal(await request(app).post('/hooks/github'), 401, 'entity.signature.missing', seen)
    const signed = await request(app).post('/hooks/github').set('X-Hub-Signature-256', sign(''))
    expect(signed.status).toBe(200)
    expect(signed.body).toEqual({ body: '<undefined>' })
  })

  it('does not ask routes without integrity for a signature', async () => {
    reset()
    expect((await deliver('/api/items', payload)).status).toBe(200)
  })

  it('refuses unsigned, mis-signed and tampered bodies in report mode too', async () => {
    reset()
    expectRefusal(await deliver('/hooks/watched', payload), 401, 'entity.signature.missing', seen)
    expectRefusal(
      await deliver('/hooks/watched', payload, sign(payload, 'wrong')),
      401,
      'entity.signature.invalid',
      seen,
    )
    // A signed body that fails the schema is only reported, as report mode promises.
    const signedInvalid = '{"size":"x"}'
    const res = await deliver('/hooks/watched', signedInvalid, sign(signedInvalid))
    expect(res.status).toBe(200)
    await tick()
    expect(events.map((e) => [e.mode, e.action, e.type])).toEqual([
      ['report', 'refused', 'entity.signature.missing'],
      ['report', 'refused', 'entity.signature.invalid'],
      ['report', 'reported', 'entity.validation.failed'],
    ])
    expectPrototypesUntouched()
  })

  it('counts the refusals by route and type', () => {
    const counters = body
      .stats()
      .counters.filter(
        (c) => c.route === 'POST /hooks/github' && c.type.startsWith('entity.signature'),
      )
    expect(counters.every((c) => c.action === 'refused' && c.count > 0)).toBe(true)
    expect(new Set(counters.map((c) => c.type))).toEqual(
      new Set(['entity.signature.missing', 'entity.signature.invalid']),
    )
  })
})

describe.each(frameworks)('per-route integrity through %s', (_name, express) => {
  const { app, seen } = buildApp(express, (app, echo) => {
    const body = safeBody({ schemas: { push: pushEvent } })
    app.post(
      '/hooks',
      body.route({ schema: 'push', integrity: { preset: 'github', secret } }),
      echo,
    )
    app.post('/items', body.route('push'), echo)
  })

  it('requires a signature on the webhook route only', async () => {
    const payload = '{"ref":"x"}'
    const hook = (signature?: string) => {
      const test = request(app).post('/hooks').type('json')
      return sendBytes(
        signature === undefined ? test : test.set('X-Hub-Signature-256', signature),
        payload,
      )
    }
    expect((await hook(sign(payload))).status).toBe(200)
    seen.bodies.length = 0
    expectRefusal(await hook(), 401, 'entity.signature.missing', seen)
    expectRefusal(await hook(sign(payload, 'x')), 401, 'entity.signature.invalid', seen)
    expect((await sendBytes(request(app).post('/items').type('json'), payload)).status).toBe(200)
  })
})

describe.each(frameworks)('a body read before its signature check through %s', (_name, express) => {
  it('checks the signature on the bytes the first instance read, never runs the handler unverified', async () => {
    const { app, seen } = buildApp(express, (app, echo) => {
      // A report-mode global instance with no binding for /hooks reads the body first.
      const body = safeBody({ mode: 'report', schemas: { push: pushEvent } })
      app.use(body)
      app.post(
        '/hooks',
        body.route({ schema: 'push', formats: ['json'], integrity: { preset: 'github', secret } }),
        echo,
      )
    })
    const payload = '{"ref":"x"}'
    const hook = () => request(app).post('/hooks').type('json')
    expectRefusal(await sendBytes(hook(), payload), 401, 'entity.signature.missing', seen)
    expectRefusal(
      await sendBytes(hook().set('X-Hub-Signature-256', sign(payload, 'x')), payload),
      401,
      'entity.signature.invalid',
      seen,
    )
    const signed = await sendBytes(hook().set('X-Hub-Signature-256', sign(payload)), payload)
    expect(signed.body).toEqual({ body: { ref: 'x' } })
    seen.bodies.length = 0
    // This binding is in report mode (its instance's): the content type its formats refuse is
    // reported, the signature still stands.
    const yaml = await sendBytes(
      request(app)
        .post('/hooks')
        .set('content-type', 'application/yaml')
        .set('X-Hub-Signature-256', sign('ref: x\n', 'x')),
      'ref: x\n',
    )
    expectRefusal(yaml, 401, 'entity.signature.invalid', seen)
  })

  it('claims the delivery in the replay store of the binding that checks it, sync or async', async () => {
    const seenKeys = new Set<string>()
    const slow = {
      claim: (key: string) =>
        new Promise<boolean>((resolve) =>
          setTimeout(() => {
            resolve(!seenKeys.has(key))
            seenKeys.add(key)
          }, 5),
        ),
    }
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(safeBody({ mode: 'report', schemas: { push: pushEvent } }))
      const hooks = safeBody({ schemas: { push: pushEvent } })
      const github = { preset: 'github', secret } as const
      app.post(
        '/hooks',
        hooks.route({ schema: 'push', integrity: { ...github, replay: true } }),
        echo,
      )
      app.post(
        '/slow',
        hooks.route({ schema: 'push', integrity: { ...github, replay: { store: slow } } }),
        echo,
      )
    })
    for (const path of ['/hooks', '/slow']) {
      const payload = `{"ref":"${path}"}`
      const send = () =>
        sendBytes(
          request(app).post(path).type('json').set('X-Hub-Signature-256', sign(payload)),
          payload,
        )
      expect((await send()).body).toEqual({ body: { ref: path } })
      seen.bodies.length = 0
      expectRefusal(await send(), 409, 'entity.signature.replayed', seen)
    }
  })

  it('counts a check any instance along the chain made, and claims a delivery once', async () => {
    const { app, seen } = buildApp(express, (app, echo) => {
      const integrity = { preset: 'github', secret, replay: true } as const
      const signed = safeBody({
        integrity,
        schemas: { push: pushEvent },
        routes: { 'POST /hook': 'push' },
      })
      // A first instance that checks no signature, then a signed global and its own route.
      app.use(safeBody({ routes: { 'POST /hook': pushEvent } }))
      app.use(signed)
      app.post('/hook', signed.route('push'), echo)
    })
    const payload = `{"ref":"chain-${Date.now()}"}`
    const send = () =>
      sendBytes(
        request(app).post('/hook').type('json').set('X-Hub-Signature-256', sign(payload)),
        payload,
      )
    expect((await send()).status).toBe(200)
    seen.bodies.length = 0
    expectRefusal(await send(), 409, 'entity.signature.replayed', seen)
  })

  it('claims again where a store failure was passed over and the binding behind refuses one', async () => {
    let up = true
    const claimed = new Set<string>()
    const store = {
      claim: (key: string) => {
        if (!up) throw new Error('store down')
        const fresh = !claimed.has(key)
        claimed.add(key)
        return fresh
      },
    }
    const github = { preset: 'github', secret } as const
    const { app, seen } = buildApp(express, (app, echo) => {
      const pass = { ...github, replay: { store, onStoreError: 'pass' } } as const
      const refuse = { ...github, replay: { store, onStoreError: 'refuse' } } as const
      app.use(safeBody({ routes: { 'POST /hook': { schema: pushEvent, integrity: pass } } }))
      app.post('/hook', safeBody().route({ schema: pushEvent, integrity: refuse }), echo)
    })
    const send = (payload: string) =>
      sendBytes(
        request(app).post('/hook').type('json').set('X-Hub-Signature-256', sign(payload)),
        payload,
      )
    // The store answered the first claim: the same claim is not made twice.
    expect((await send('{"ref":"up"}')).status).toBe(200)
    seen.bodies.length = 0
    // The store is down: the first instance passed the body on unclaimed, the second refuses.
    up = false
    expectRefusal(await send('{"ref":"down"}'), 503, 'replay.store.unavailable', seen)
  })

  it('passes a body whose signature a global binding checked with the same options', async () => {
    const { app, seen } = buildApp(express, (app, echo) => {
      const integrity = { preset: 'github', secret } as const
      const bound = { schema: pushEvent, integrity }
      app.use(safeBody({ routes: { 'POST /hooks': bound, 'POST /other': bound } }))
      // Compiled apart, from options of its own: the same check, not the same object.
      app.post('/hooks', safeBody().route({ schema: pushEvent, integrity: { ...integrity } }), echo)
      // A check the global one did not make (another secret).
      app.post(
        '/other',
        safeBody().route({
          schema: pushEvent,
          formats: ['json'],
          integrity: { preset: 'github', secret: 'y' },
        }),
        echo,
      )
    })
    const payload = '{"ref":"x"}'
    const signed = (path: string) =>
      sendBytes(
        request(app).post(path).type('json').set('X-Hub-Signature-256', sign(payload)),
        payload,
      )
    expect((await signed('/hooks')).body).toEqual({ body: { ref: 'x' } })
    seen.bodies.length = 0
    // Another secret: checked here, on the bytes, and refused.
    expectRefusal(await signed('/other'), 401, 'entity.signature.invalid', seen)
    // In the order a read checks: the header, the content type, then the signature.
    const yaml = await sendBytes(
      request(app)
        .post('/other')
        .set('content-type', 'application/yaml')
        .set('X-Hub-Signature-256', sign('ref: x\n')),
      'ref: x\n',
    )
    expectRefusal(yaml, 415, 'content.type.unsupported', seen)
    expectRefusal(
      await sendBytes(request(app).post('/hooks').type('json'), payload),
      401,
      'entity.signature.missing',
      seen,
    )
  })
})
