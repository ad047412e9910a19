import { createHmac } from 'node:crypto'
import request from 'supertest'
import { describe, expect, it, vi } from 'vitest'
import { memoryReplayStore, type ReplayStore, safeBody } from '../../src/index.js'
import { takeBody } from '../../src/core/body.js'
import { createEngine } from '../../src/core/engine.js'
import {
  buildApp,
  expectPrototypesUntouched,
  expectRefusal,
  frameworks,
  sendBytes,
} from '../helpers/app.js'
import { eventRecorder, tick } from '../helpers/violations.js'

const secret = 'whsec-replay-test'
const previous = 'whsec-replay-previous'
const event = { type: 'object', properties: { id: { type: 'string' } } } as const

const github = (body: string, key = secret) =>
  `sha256=${createHmac('sha256', key).update(body).digest('hex')}`
const v1 = (body: string, t: number, key = secret) =>
  createHmac('sha256', key).update(`${t}.${body}`).digest('hex')
const now = () => Math.floor(Date.now() / 1000)

/** A store that never answers, one that throws, one that rejects. */
const hanging: ReplayStore = { claim: () => new Promise<boolean>(() => {}) }
const throwing: ReplayStore = {
  claim: () => {
    throw new Error('store down')
  },
}
const rejecting: ReplayStore = { claim: () => Promise.reject(new Error('store down')) }
/** Stores handing on a Redis reply as it is: 'OK' when set, null when the key was there. */
const replyingOk = { claim: () => 'OK' } as unknown as ReplayStore
const replyingNull = { claim: async () => null } as unknown as ReplayStore
/** A store that claims each key 200 ms late, and records what it is asked to release. */
const released: string[] = []
const late = (): ReplayStore => ({
  claim: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 200)),
  release: (key) => released.push(key),
})
const lateStore = late()
const latePassing = late()

describe.each(frameworks)('replay protection, in-memory store, through %s', (_name, express) => {
  const { events, onViolation } = eventRecorder()
  const rotating = { preset: 'stripe', secrets: [secret, previous], replay: true } as const
  const body = safeBody({
    schemas: { event },
    routes: {
      'POST /github': { schema: 'event', integrity: { preset: 'github', secret, replay: true } },
      'POST /github-short': {
        schema: 'event',
        integrity: { preset: 'github', secret, replay: { window: 1 } },
      },
      'POST /stripe': { schema: 'event', integrity: rotating },
      'POST /stripe-too': { schema: 'event', integrity: rotating },
      'POST /by-id': {
        schema: 'event',
        integrity: {
          header: 'x-signature',
          secret,
          replay: { header: 'X-Delivery' },
        },
      },
      'POST /hanging': {
        schema: 'event',
        integrity: { preset: 'github', secret, replay: { store: hanging, storeTimeout: 100 } },
      },
      'POST /late': {
        schema: 'event',
        integrity: { preset: 'github', secret, replay: { store: lateStore, storeTimeout: 100 } },
      },
      'POST /late-passing': {
        schema: 'event',
        integrity: {
          preset: 'github',
          secret,
          replay: { store: latePassing, storeTimeout: 100, onStoreError: 'pass' },
        },
      },
      'POST /throwing': {
        schema: 'event',
        integrity: { preset: 'github', secret, replay: { store: throwing } },
      },
      'POST /ok-reply': {
        schema: 'event',
        integrity: { preset: 'github', secret, replay: { store: replyingOk } },
      },
      'POST /null-reply': {
        schema: 'event',
        integrity: { preset: 'github', secret, replay: { store: replyingNull } },
      },
      'POST /null-reply-passing': {
        schema: 'event',
        integrity: {
          preset: 'github',
          secret,
          replay: { store: replyingNull, onStoreError: 'pass' },
        },
      },
      'POST /passing': {
        schema: 'event',
        integrity: {
          preset: 'github',
          secret,
          replay: { store: rejecting, onStoreError: 'pass' },
        },
      },
      'POST /report': {
        schema: 'event',
        mode: 'report',
        integrity: { preset: 'github', secret, replay: true },
      },
    },
    onViolation,
  })
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(body)
    app.post(/.*/, echo)
  })
  const post = (path: string, text: string, headers: Record<string, string>) => {
    let test = request(app).post(path).type('json')
    for (const [name, value] of Object.entries(headers)) test = test.set(name, value)
    return sendBytes(test, text)
  }
  let n = 0
  /** A payload no other test sends: each test starts with a fresh delivery. */
  const fresh = () => `{"id":"evt_${process.pid}_${++n}_${Date.now()}"}`
  /** A delivery that went through: 200, and the handler's record cleared for what follows. */
  const passed = (res: { status: number }) => {
    expect(res.status).toBe(200)
    seen.bodies.length = 0
  }
  function reset() {
    seen.bodies.length = 0
    seen.errors.length = 0
    events.length = 0
  }

  it('passes the first delivery and refuses the second with 409 entity.signature.replayed', async () => {
    reset()
    const payload = fresh()
    const first = await post('/github', payload, { 'x-hub-signature-256': github(payload) })
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ body: JSON.parse(payload) })
    seen.bodies.length = 0
    const again = await post('/github', payload, { 'x-hub-signature-256': github(payload) })
    expectRefusal(again, 409, 'entity.signature.replayed', seen)
    expect(again.body.detail).toBe(
      'This delivery was already received (`integrity.replay.window` is 86400 s on POST /github).',
    )
    await tick()
    expect(events).toMatchObject([
      { action: 'refused', type: 'entity.signature.replayed', status: 409, route: 'POST /github' },
    ])
  })

  it('records an id only after the signature verified: unsigned junk fills nothing', async () => {
    reset()
    const payload = fresh()
    const forged = await post('/github', payload, { 'x-hub-signature-256': github(payload, 'x') })
    expectRefusal(forged, 401, 'entity.signature.invalid', seen)
    const real = await post('/github', payload, { 'x-hub-signature-256': github(payload) })
    expect(real.status).toBe(200)
  })

  it('keys a delivery on its signed bytes: the same body refused however it is re-encoded', async () => {
    reset()
    const payload = fresh()
    passed(await post('/github', payload, { 'x-hub-signature-256': github(payload) }))
    // Upper-case hex is the same signature to the verifier, so the same delivery.
    const upper = `sha256=${github(payload).slice(7).toUpperCase()}`
    expectRefusal(
      await post('/github', payload, { 'x-hub-signature-256': upper }),
      409,
      'entity.signature.replayed',
      seen,
    )
  })

  it('forgets a delivery after the window', async () => {
    reset()
    const payload = fresh()
    const headers = { 'x-hub-signature-256': github(payload) }
    passed(await post('/github-short', payload, headers))
    expectRefusal(
      await post('/github-short', payload, headers),
      409,
      'entity.signature.replayed',
      seen,
    )
    await new Promise((resolve) => setTimeout(resolve, 1100))
    passed(await post('/github-short', payload, headers))
  })

  it('Stripe: a replay inside the tolerance is refused, even with one of two signatures dropped', async () => {
    reset()
    const payload = fresh()
    const t = now()
    const both = `t=${t},v1=${v1(payload, t)},v1=${v1(payload, t, previous)}`
    passed(await post('/stripe', payload, { 'stripe-signature': both }))
    const onlyPrevious = `t=${t},v1=${v1(payload, t, previous)}`
    const res = await post('/stripe', payload, { 'stripe-signature': onlyPrevious })
    expectRefusal(res, 409, 'entity.signature.replayed', seen)
    expect(res.body.detail).toContain('`integrity.replay.window` is 300 s')
    // The sender's retry signs a new timestamp: a new delivery.
    const retry = `t=${t + 1},v1=${v1(payload, t + 1)}`
    passed(await post('/stripe', payload, { 'stripe-signature': retry }))
  })

  it('routes sharing one integrity option share its store', async () => {
    reset()
    const payload = fresh()
    const t = now()
    const header = { 'stripe-signature': `t=${t},v1=${v1(payload, t)}` }
    passed(await post('/stripe', payload, header))
    expectRefusal(
      await post('/stripe-too', payload, header),
      409,
      'entity.signature.replayed',
      seen,
    )
  })

  it('keys on a delivery id header when the route names one', async () => {
    reset()
    const payload = fresh()
    const signature = github(payload).slice(7)
    const first = { 'x-signature': signature, 'x-delivery': `d-${n}` }
    passed(await post('/by-id', payload, first))
    expectRefusal(await post('/by-id', payload, first), 409, 'entity.signature.replayed', seen)
    expectRefusal(
      await post('/by-id', payload, { 'x-signature': signature }),
      401,
      'entity.signature.missing',
      seen,
    )
    expectRefusal(
      await post('/by-id', payload, { 'x-signature': signature, 'x-delivery': 'a b' }),
      401,
      'entity.signature.invalid',
      seen,
    )
  })

  it('a store that never answers: 503 replay.store.unavailable after storeTimeout, no hang', async () => {
    reset()
    const payload = fresh()
    const started = Date.now()
    const res = await post('/hanging', payload, { 'x-hub-signature-256': github(payload) })
    expectRefusal(res, 503, 'replay.store.unavailable', seen)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('a claim that lands after a 503 is released, so the retry is taken; not after a pass', async () => {
    reset()
    released.length = 0
    const payload = fresh()
    const headers = { 'x-hub-signature-256': github(payload) }
    expectRefusal(await post('/late', payload, headers), 503, 'replay.store.unavailable', seen)
    expect((await post('/late-passing', payload, headers)).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const digest = createHmac('sha256', secret).update(payload).digest('base64url')
    expect(released).toEqual([`sig:${digest}`])
  })

  it('a store that throws: 503 by default, never a 500', async () => {
    reset()
    const payload = fresh()
    const res = await post('/throwing', payload, { 'x-hub-signature-256': github(payload) })
    expectRefusal(res, 503, 'replay.store.unavailable', seen)
    expect(seen.errors.at(-1)).toMatchObject({ cause: { message: 'store down' } })
  })

  it.each(['/ok-reply', '/null-reply'])(
    'a store answering other than true or false (%s): 503, never taken for a replay (409)',
    async (path) => {
      reset()
      const payload = fresh()
      const res = await post(path, payload, { 'x-hub-signature-256': github(payload) })
      expectRefusal(res, 503, 'replay.store.unavailable', seen)
      expect(seen.errors.at(-1)).toMatchObject({
        cause: { message: expect.stringMatching(/claim answered (string|null), not true/) },
      })
    },
  )

  it("a store answering other than true or false, with onStoreError: 'pass': the body goes on", async () => {
    reset()
    const payload = fresh()
    passed(await post('/null-reply-passing', payload, { 'x-hub-signature-256': github(payload) }))
  })

  it("onStoreError: 'pass' lets the body through and reports it", async () => {
    reset()
    const payload = fresh()
    const res = await post('/passing', payload, { 'x-hub-signature-256': github(payload) })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: JSON.parse(payload) })
    await tick()
    expect(events).toMatchObject([
      { action: 'reported', type: 'replay.store.unavailable', status: 503, route: 'POST /passing' },
    ])
    expectPrototypesUntouched()
  })

  it('report mode still refuses a replay: a replayed body is dangerous in itself', async () => {
    reset()
    const payload = fresh()
    const headers = { 'x-hub-signature-256': github(payload) }
    passed(await post('/report', payload, headers))
    expectRefusal(await post('/report', payload, headers), 409, 'entity.signature.replayed', seen)
  })

  it('a signed empty body is replay-checked too', async () => {
    reset()
    const headers = { 'x-hub-signature-256': github('') }
    const first = await request(app).post('/github-short').set(headers)
    passed(first)
    const again = await request(app).post('/github-short').set(headers)
    expectRefusal(again, 409, 'entity.signature.replayed', seen)
  })
})

describe('the in-memory store', () => {
  it('answers synchronously: a route using it awaits nothing', async () => {
    const engine = createEngine({
      routes: {
        'POST /x': { schema: true, integrity: { preset: 'github', secret, replay: true } },
      },
    })
    const payload = '{"id":"sync"}'
    const outcomes: unknown[] = []
    for (let i = 0; i < 2; i++) {
      takeBody(
        engine.scope,
        engine.find('POST', '/x'),
        {
          method: 'POST',
          path: '/x',
          headers: {
            'content-type': 'application/json',
            'content-length': String(payload.length),
            'x-hub-signature-256': github(payload),
          },
        },
        Buffer.from(payload),
        (err, value) => outcomes.push(err ?? value),
      )
    }
    // The first delivery went on before this line: no promise, no tick.
    expect(outcomes).toMatchObject([{ id: 'sync' }])
    // The replay was decided then too; a refusal is handed on once the bytes received are
    // parsed (afterParse), which is the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve))
    expect(outcomes).toMatchObject([{ id: 'sync' }, { status: 409 }])
  })

  it('is bounded: a full store fails like an unreachable one instead of forgetting a live id', () => {
    const store = memoryReplayStore({ max: 2 })
    expect(store.claim('a', 60_000)).toBe(true)
    expect(store.claim('b', 60_000)).toBe(true)
    expect(store.claim('a', 60_000)).toBe(false)
    expect(() => store.claim('c', 60_000)).toThrow(/full/)
  })

  it('makes room in a full store as soon as any id, not only the oldest, is out of time', () => {
    const clock = vi.spyOn(Date, 'now').mockReturnValue(1_000_000)
    try {
      const store = memoryReplayStore({ max: 3 })
      expect(store.claim('a', 60_000)).toBe(true)
      expect(store.claim('b', 10_000)).toBe(true) // out of time before 'a', behind it
      expect(store.claim('c', 60_000)).toBe(true)
      clock.mockReturnValue(1_005_000)
      expect(() => store.claim('d', 5_000)).toThrow(/full/)
      clock.mockReturnValue(1_011_000)
      expect(store.claim('d', 5_000)).toBe(true) // 'b' dropped; 'd' is next out, at 1_016_000
      expect(() => store.claim('e', 60_000)).toThrow(/full/)
      clock.mockReturnValue(1_017_000)
      expect(store.claim('e', 60_000)).toBe(true)
      expect(store.claim('a', 60_000)).toBe(false) // still remembered: a sweep drops no live id
    } finally {
      clock.mockRestore()
    }
  })

  it('refuses a claim on a full store of live ids without a pass over all of them', () => {
    const store = memoryReplayStore({ max: 1000 })
    for (let i = 0; i < 1000; i++) expect(store.claim(`id${i}`, 60_000)).toBe(true)
    const refusals: unknown[] = []
    const visited = countMapSteps(() => {
      for (let i = 0; i < 1000; i++) {
        try {
          store.claim(`new${i}`, 60_000)
        } catch (err) {
          refusals.push(err)
        }
      }
    })
    expect(refusals).toHaveLength(1000)
    expect(String(refusals[999])).toMatch(/memoryReplayStore is full \(1000 ids\)/)
    // One look at the oldest id per claim; a pass over the store each time would be 1,000,000.
    expect(visited).toBeLessThanOrEqual(2000)
  })

  it('passes over no full store whose ids expire in the order they came, as time goes on', () => {
    const clock = vi.spyOn(Date, 'now').mockReturnValue(0)
    try {
      const store = memoryReplayStore({ max: 1000 })
      for (let i = 0; i < 1000; i++) {
        clock.mockReturnValue(i)
        store.claim(`id${i}`, 60_000)
      }
      // One id expires each ms; ten new deliveries arrive in it: one takes the room made,
      // nine are refused.
      let taken = 0
      let refused = 0
      const visited = countMapSteps(() => {
        for (let ms = 60_000; ms < 60_300; ms++) {
          clock.mockReturnValue(ms)
          for (let n = 0; n < 10; n++) {
            try {
              if (store.claim(`new${ms}.${n}`, 60_000)) taken++
            } catch {
              refused++
            }
          }
        }
      })
      expect([taken, refused]).toEqual([300, 2700])
      // A look at the front per claim; a pass over the store at each expiry would be 300,000.
      expect(visited).toBeLessThanOrEqual(3 * 3000)
    } finally {
      clock.mockRestore()
    }
  })

  it('drops ids whose time is up, making room', async () => {
    const store = memoryReplayStore({ max: 2 })
    expect(store.claim('a', 20)).toBe(true)
    expect(store.claim('b', 20)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect(store.claim('c', 60_000)).toBe(true)
    expect(store.claim('a', 60_000)).toBe(true)
  })
})

describe('replay options at start-up', () => {
  const bind = (replay: unknown) => () =>
    safeBody({
      routes: {
        'POST /x': {
          schema: true,
          integrity: { preset: 'github', secret, replay } as never,
        },
      },
    })

  it.each([
    [{ windw: 5 }, /unknown option "windw" in route "POST \/x": integrity: replay/],
    [{ window: 0 }, /replay: window must be a positive integer/],
    [{ storeTimeout: -1 }, /replay: storeTimeout must be a positive integer/],
    [{ onStoreError: 'ignore' }, /onStoreError must be 'refuse' or 'pass'/],
    [{ store: {} }, /store must have a claim\(key, ttl\) method/],
    [{ header: 'bad header' }, /replay: header must be a header name/],
    ['yes', /replay must be true, false or an object/],
  ])('refuses %o', (replay, message) => {
    expect(bind(replay)).toThrow(message)
  })

  it('refuses an unknown option of the in-memory store', () => {
    expect(() => memoryReplayStore({ max: 0 })).toThrow(/max must be a positive integer/)
  })
})

/** How many entries every Map iterated while `run` ran (synchronously) has handed out. */
function countMapSteps(run: () => void): number {
  const iterate = Map.prototype[Symbol.iterator]
  let steps = 0
  const spy = vi.spyOn(Map.prototype, Symbol.iterator).mockImplementation(function (
    this: Map<unknown, unknown>,
  ) {
    const entries = iterate.call(this)
    const next = entries.next.bind(entries)
    entries.next = () => {
      steps++
      return next()
    }
    return entries
  })
  try {
    run()
  } finally {
    spy.mockRestore()
  }
  return steps
}
