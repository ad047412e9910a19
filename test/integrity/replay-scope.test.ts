import { createHmac } from 'node:crypto'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import {
  type IntegrityOptions,
  memoryReplayStore,
  type ReplayStore,
  safeBody,
} from '../../src/index.js'
import { secretScope } from '../../src/core/replay.js'
import {
  buildApp,
  type ExpressFactory,
  expectPrototypesUntouched,
  expectRefusal,
  frameworks,
  sendBytes,
} from '../helpers/app.js'

// Whose deliveries a replay key remembers: the keys are scoped by the route's secrets, one
// key per secret, so senders with different secrets sharing a store never collide, and
// rotating secrets (adding one in front, reordering them) keeps the memory.

const senderA = Buffer.from('sender-A-secret-bytes').toString('base64')
const senderB = Buffer.from('sender-B-secret-bytes').toString('base64')
const now = () => Math.floor(Date.now() / 1000)
const github = (body: string, key: string) =>
  `sha256=${createHmac('sha256', key).update(body).digest('hex')}`
/** Standard Webhooks headers for `body`, signed with each of `keys` (base64 secrets). */
const standard = (id: string, body: string, ...keys: string[]) => {
  const t = now()
  const signatures = keys.map(
    (key) =>
      `v1,${createHmac('sha256', Buffer.from(key, 'base64')).update(`${id}.${t}.${body}`).digest('base64')}`,
  )
  return {
    'webhook-id': id,
    'webhook-timestamp': String(t),
    'webhook-signature': signatures.join(' '),
  }
}

let n = 0
/** A payload and an id no other test sends. */
const fresh = () => `{"id":"evt_${process.pid}_${++n}_${Date.now()}"}`
const freshId = () => `msg_${process.pid}_${++n}_${Date.now()}`

/** One app: `routes` bound with `integrity` each, echoing what passes. */
function app(express: ExpressFactory, routes: Record<string, IntegrityOptions>) {
  const bound = Object.fromEntries(
    Object.entries(routes).map(([key, integrity]) => [key, { schema: true, integrity }]),
  )
  return buildApp(express, (app, echo) => {
    app.use(safeBody({ routes: bound }))
    app.post(/.*/, echo)
  })
}

function post(
  on: ReturnType<typeof app>,
  path: string,
  body: string,
  headers: Record<string, string>,
) {
  let test = request(on.app).post(path).type('json')
  for (const [name, value] of Object.entries(headers)) test = test.set(name, value)
  return sendBytes(test, body)
}

function passed(res: { status: number }, on: ReturnType<typeof app>) {
  expect(res.status).toBe(200)
  on.seen.bodies.length = 0
}

describe.each(frameworks)('replay keys, scoped by secret, through %s', (_name, express) => {
  it("two senders sharing one store: B's first delivery of an id A used passes", async () => {
    const store = memoryReplayStore()
    const on = app(express, {
      'POST /hooks/a': {
        preset: 'standard-webhooks',
        secret: `whsec_${senderA}`,
        replay: { store },
      },
      'POST /hooks/b': {
        preset: 'standard-webhooks',
        secret: `whsec_${senderB}`,
        replay: { store },
      },
      'POST /x/a': { preset: 'github', secret: 'a', replay: { store, header: 'x-delivery' } },
      'POST /x/b': { preset: 'github', secret: 'b', replay: { store, header: 'x-delivery' } },
    })
    const id = freshId()
    const fromA = standard(id, '{"from":"A"}', senderA)
    passed(await post(on, '/hooks/a', '{"from":"A"}', fromA), on)
    passed(await post(on, '/hooks/b', '{"from":"B"}', standard(id, '{"from":"B"}', senderB)), on)
    // Each sender's own replay is still refused.
    const again = await post(on, '/hooks/a', '{"from":"A"}', fromA)
    expectRefusal(again, 409, 'entity.signature.replayed', on.seen)

    const delivery = freshId()
    const a = { 'x-delivery': delivery, 'x-hub-signature-256': github('{"n":1}', 'a') }
    passed(await post(on, '/x/a', '{"n":1}', a), on)
    const b = { 'x-delivery': delivery, 'x-hub-signature-256': github('{"n":2}', 'b') }
    passed(await post(on, '/x/b', '{"n":2}', b), on)
    expectRefusal(await post(on, '/x/b', '{"n":2}', b), 409, 'entity.signature.replayed', on.seen)
    expectPrototypesUntouched()
  })

  it('routes sharing a secret share its keys: one sender, one memory', async () => {
    const store = memoryReplayStore()
    const on = app(express, {
      'POST /one': { preset: 'github', secret: 'shared', replay: { store, header: 'x-delivery' } },
      'POST /two': { preset: 'github', secret: 'shared', replay: { store, header: 'x-delivery' } },
    })
    const headers = (body: string) => ({
      'x-delivery': 'same',
      'x-hub-signature-256': github(body, 'shared'),
    })
    passed(await post(on, '/one', '{"n":1}', headers('{"n":1}')), on)
    const res = await post(on, '/two', '{"n":2}', headers('{"n":2}'))
    expectRefusal(res, 409, 'entity.signature.replayed', on.seen)
  })

  it('rotating secrets keeps the memory: a delivery seen before is refused after', async () => {
    const store = memoryReplayStore()
    const at = (secrets: string[]) =>
      app(express, { 'POST /hook': { preset: 'github', secrets, replay: { store } } })
    const body = fresh()
    const captured = { 'x-hub-signature-256': github(body, 'old') }
    const before = at(['old'])
    passed(await post(before, '/hook', body, captured), before)
    // The new secret in front, and (another instance behind the same balancer) behind.
    for (const secrets of [
      ['new', 'old'],
      ['old', 'new'],
      ['new', 'old', 'older'],
    ]) {
      const after = at(secrets)
      const res = await post(after, '/hook', body, captured)
      expectRefusal(res, 409, 'entity.signature.replayed', after.seen)
    }
  })

  it('rotating secrets keeps the memory of delivery ids too', async () => {
    const store = memoryReplayStore()
    const at = (...keys: string[]) =>
      app(express, {
        'POST /hook': {
          preset: 'standard-webhooks',
          secrets: keys.map((key) => `whsec_${key}`),
          replay: { store },
        },
      })
    const captured = standard(freshId(), '{}', senderA)
    const before = at(senderA)
    passed(await post(before, '/hook', '{}', captured), before)
    const after = at(senderB, senderA)
    expectRefusal(await post(after, '/hook', '{}', captured), 409, 'entity.signature.replayed')
  })

  it('keys do not depend on which of two signatures a header carries', async () => {
    const store = memoryReplayStore()
    const both = { 'POST /hook': { preset: 'standard-webhooks', replay: { store } } } as const
    const on = app(express, {
      'POST /hook': { ...both['POST /hook'], secrets: [`whsec_${senderA}`, `whsec_${senderB}`] },
    })
    const id = freshId()
    passed(await post(on, '/hook', '{}', standard(id, '{}', senderA, senderB)), on)
    for (const key of [senderA, senderB]) {
      const res = await post(on, '/hook', '{}', standard(id, '{}', key))
      expectRefusal(res, 409, 'entity.signature.replayed', on.seen)
    }
  })

  it("a replay refused as seen frees the keys it took: the first delivery's retry passes", async () => {
    // Two instances share a store but not all secrets (a rotation under way): the first copy
    // takes its first key on one, a duplicate on the other takes its own first key and finds
    // the shared one seen (409); the first copy's store then fails (503), and the sender
    // retries on the other instance, which must not find its key held by the duplicate.
    const scopeOf = (secret: string) => secretScope(Buffer.from(secret))
    const [c, a, b] = ['k1', 'k2', 'k3', 'k4', 'k5']
      .map((k) => `rotation-${k}`)
      .sort((x, y) => (scopeOf(x) < scopeOf(y) ? -1 : 1)) as [string, string, string]
    const memory = memoryReplayStore()
    let hold = true
    let fail: ((err: Error) => void) | null = null
    const store: ReplayStore = {
      claim: (key, ttl) =>
        hold && key.includes(scopeOf(b))
          ? new Promise<boolean>((_resolve, reject) => (fail = reject))
          : memory.claim(key, ttl),
      release: (key) => memory.release?.(key),
    }
    const replay = { store, header: 'x-delivery' }
    const one = app(express, { 'POST /hook': { preset: 'github', secrets: [c, a], replay } })
    const two = app(express, { 'POST /hook': { preset: 'github', secrets: [a, b], replay } })
    const body = fresh()
    const headers = { 'x-delivery': freshId(), 'x-hub-signature-256': github(body, a) }
    const first = post(two, '/hook', body, headers).then((res) => res)
    for (let waited = 0; fail === null && waited < 2000; waited += 5) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const duplicate = await post(one, '/hook', body, headers)
    expectRefusal(duplicate, 409, 'entity.signature.replayed', one.seen)
    hold = false
    ;(fail as unknown as (err: Error) => void)(new Error('store down'))
    expectRefusal(await first, 503, 'replay.store.unavailable', two.seen)
    passed(await post(one, '/hook', body, headers), one)
    expectRefusal(await post(two, '/hook', body, headers), 409, 'entity.signature.replayed')
  })

  it.each([
    ['answering at once', false],
    ['answering later', true],
  ])(
    'a store %s that fails for one of the keys: 503, and the keys it took are released',
    async (_how, later) => {
      const memory = memoryReplayStore()
      let failures = 1
      let claims = 0
      // Takes the first key, then fails once on the second, as a store that goes down would.
      const claim = (key: string, ttl: number) => {
        if (++claims === 2 && failures-- > 0) throw new Error('store down')
        return memory.claim(key, ttl)
      }
      const flaky: ReplayStore = {
        claim: later
          ? async (key, ttl) => {
              await new Promise((resolve) => setTimeout(resolve, 5))
              return claim(key, ttl)
            }
          : claim,
        release: (key) => memory.release?.(key),
      }
      const on = app(express, {
        'POST /hook': { preset: 'github', secrets: ['new', 'old'], replay: { store: flaky } },
      })
      const body = fresh()
      const headers = { 'x-hub-signature-256': github(body, 'old') }
      expectRefusal(
        await post(on, '/hook', body, headers),
        503,
        'replay.store.unavailable',
        on.seen,
      )
      // The sender retries: the key taken before the failure was released, so it passes.
      passed(await post(on, '/hook', body, headers), on)
      expectRefusal(await post(on, '/hook', body, headers), 409, 'entity.signature.replayed')
    },
  )
})
