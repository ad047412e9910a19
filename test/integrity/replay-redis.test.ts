import { createHmac } from 'node:crypto'
import type { Express } from 'express'
import { createClient } from 'redis'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type IntegrityOptions, redisReplayStore, safeBody } from '../../src/index.js'
import {
  buildApp,
  expectPrototypesUntouched,
  expectRefusal,
  frameworks,
  listen,
  type Recorder,
  sendBytes,
} from '../helpers/app.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'
import { eventRecorder, tick } from '../helpers/violations.js'

// Against a real redis-server, started for this file on a free port and stopped after. Two
// app instances, each with its own client and connection, stand for two processes behind a
// load balancer: all they share is the Redis.

const secret = 'whsec-redis-test'
const event = { type: 'object', properties: { id: { type: 'string' } } } as const
const github = (body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
const v1 = (body: string, t: number) =>
  createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')

// A fixed, short reconnect delay, so a client comes back soon after the server does.
const newClient = (url: string) => createClient({ url, socket: { reconnectStrategy: 50 } })
type Client = ReturnType<typeof newClient>

let redis: RedisServer
const clients: Client[] = []

async function connectClient(): Promise<Client> {
  const client = newClient(redis.url)
  // A client without an error listener crashes the process when the server goes away.
  client.on('error', () => {})
  await client.connect()
  clients.push(client)
  return client
}

beforeAll(async () => {
  redis = await startRedis()
})

afterAll(async () => {
  for (const client of clients) client.destroy()
  await redis?.stop()
})

/**
 * node-redis v4's SET, as its `transformArguments` builds the command: it reads `EX`/`PX`
 * and `NX`/`XX` only. Sent as built over a real client, to the real Redis.
 */
function v4Shaped(client: Client) {
  return {
    isReady: true,
    set(
      key: string,
      value: string,
      options: { EX?: number; PX?: number; NX?: boolean; XX?: boolean },
    ) {
      const args = ['SET', key, value]
      if (options.EX !== undefined) args.push('EX', String(options.EX))
      else if (options.PX !== undefined) args.push('PX', String(options.PX))
      if (options.NX) args.push('NX')
      else if (options.XX) args.push('XX')
      return client.sendCommand(args)
    },
  }
}

describe('replay protection on Redis, through a node-redis v4 client', () => {
  it('claims with NX and PX as v4 reads them: a replay is refused, the key expires', async () => {
    const store = redisReplayStore(v4Shaped(await connectClient()))
    const probe = await connectClient()
    const { app, seen } = buildApp(frameworks[0][1], (app, echo) => {
      app.use(
        safeBody({
          routes: {
            'POST /hooks': {
              schema: true,
              integrity: { preset: 'github', secret, replay: { store } },
            },
          },
        }),
      )
      app.post(/.*/, echo)
    })
    const payload = `{"id":"evt_v4_${Date.now()}"}`
    const deliver = () =>
      sendBytes(
        request(app).post('/hooks').type('json').set('x-hub-signature-256', github(payload)),
        payload,
      )
    expect((await deliver()).status).toBe(200)
    seen.bodies.length = 0
    expectRefusal(await deliver(), 409, 'entity.signature.replayed', seen)
    const digest = createHmac('sha256', secret).update(payload).digest('base64url')
    const ttl = await probe.pTTL(`safebody:replay:sig:${digest}`)
    expect(ttl).toBeGreaterThan(86_390_000)
    expect(ttl).toBeLessThanOrEqual(86_400_000)
  })
})

describe('replay keys on a shared Redis, scoped by secret', () => {
  /** An instance of one route, its own client, bound with `integrity`. */
  async function instance(integrity: Omit<IntegrityOptions, 'replay'>, header?: string) {
    const store = redisReplayStore(await connectClient())
    const replay = header === undefined ? { store } : { store, header }
    return buildApp(frameworks[0][1], (app, echo) => {
      app.use(
        safeBody({
          routes: { 'POST /hook': { schema: true, integrity: { ...integrity, replay } } },
        }),
      )
      app.post(/.*/, echo)
    })
  }
  const deliver = (on: { app: Express }, payload: string, headers: Record<string, string>) => {
    let test = request(on.app).post('/hook').type('json')
    for (const [name, value] of Object.entries(headers)) test = test.set(name, value)
    return sendBytes(test, payload)
  }
  const sign = (payload: string, key: string) =>
    `sha256=${createHmac('sha256', key).update(payload).digest('hex')}`

  it('rotation on some instances, in any order: a delivery seen before is refused', async () => {
    const before = await instance({ preset: 'github', secret })
    const front = await instance({ preset: 'github', secrets: ['next', secret] })
    const behind = await instance({ preset: 'github', secrets: [secret, 'next'] })
    const payload = `{"id":"evt_rotation_${Date.now()}"}`
    const headers = { 'x-hub-signature-256': sign(payload, secret) }
    expect((await deliver(before, payload, headers)).status).toBe(200)
    before.seen.bodies.length = 0
    for (const on of [front, behind]) {
      expectRefusal(await deliver(on, payload, headers), 409, 'entity.signature.replayed', on.seen)
    }
    // Signed with the new secret only, by the rotated sender: seen too, under that secret.
    const next = { 'x-hub-signature-256': sign(payload, 'next') }
    expectRefusal(await deliver(front, payload, next), 409, 'entity.signature.replayed', front.seen)
  })

  it("two senders' ids never meet; each sender's replay is refused", async () => {
    const a = await instance({ preset: 'github', secret: 'sender-a' }, 'x-delivery')
    const b = await instance({ preset: 'github', secret: 'sender-b' }, 'x-delivery')
    const id = `d_${Date.now()}`
    const fromA = { 'x-delivery': id, 'x-hub-signature-256': sign('{"n":1}', 'sender-a') }
    const fromB = { 'x-delivery': id, 'x-hub-signature-256': sign('{"n":2}', 'sender-b') }
    expect((await deliver(a, '{"n":1}', fromA)).status).toBe(200)
    expect((await deliver(b, '{"n":2}', fromB)).status).toBe(200)
    b.seen.bodies.length = 0
    expectRefusal(await deliver(b, '{"n":2}', fromB), 409, 'entity.signature.replayed', b.seen)
  })
})

describe.each(frameworks)('replay protection on a shared Redis, through %s', (_name, express) => {
  const { events, onViolation } = eventRecorder()
  let a: { app: Express; seen: Recorder }
  let b: { app: Express; seen: Recorder }
  let probe: Client
  let n = 0
  const fresh = () => `{"id":"evt_${_name.replace(' ', '')}_${++n}_${Date.now()}"}`

  /** One app instance: its own client, its own safeBody, the same Redis. */
  async function instance(): Promise<{ app: Express; seen: Recorder }> {
    const store = redisReplayStore(await connectClient())
    const integrity = (replay: IntegrityOptions['replay']): IntegrityOptions => ({
      preset: 'github',
      secret,
      replay,
    })
    const body = safeBody({
      schemas: { event },
      routes: {
        'POST /hooks': { schema: 'event', integrity: integrity({ store }) },
        'POST /short': { schema: 'event', integrity: integrity({ store, window: 1 }) },
        'POST /stripe': {
          schema: 'event',
          integrity: { preset: 'stripe', secret, replay: { store } },
        },
        'POST /tolerant': {
          schema: 'event',
          integrity: integrity({ store, onStoreError: 'pass' }),
        },
        'POST /patient': { schema: 'event', integrity: integrity({ store, storeTimeout: 200 }) },
      },
      onViolation,
    })
    return buildApp(express, (app, echo) => {
      app.use(body)
      app.post(/.*/, echo)
    })
  }

  beforeAll(async () => {
    a = await instance()
    b = await instance()
    probe = await connectClient()
  })

  const deliver = (on: { app: Express }, path: string, payload: string, signature?: string) =>
    sendBytes(
      request(on.app)
        .post(path)
        .type('json')
        .set('x-hub-signature-256', signature ?? github(payload)),
      payload,
    )
  const passed = (
    res: { status: number; body: unknown },
    payload: string,
    on: { seen: Recorder },
  ) => {
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: JSON.parse(payload) })
    on.seen.bodies.length = 0
  }

  it('passes the first delivery, and records it with its window as the key’s expiry', async () => {
    const payload = fresh()
    passed(await deliver(a, '/hooks', payload), payload, a)
    const digest = createHmac('sha256', secret).update(payload).digest('base64url')
    const ttl = await probe.pTTL(`safebody:replay:sig:${digest}`)
    expect(ttl).toBeGreaterThan(86_390_000)
    expect(ttl).toBeLessThanOrEqual(86_400_000)
  })

  it('refuses a replay on the same instance: 409 entity.signature.replayed', async () => {
    const payload = fresh()
    passed(await deliver(a, '/hooks', payload), payload, a)
    expectRefusal(await deliver(a, '/hooks', payload), 409, 'entity.signature.replayed', a.seen)
  })

  it('refuses a replay on another instance sharing the Redis', async () => {
    const payload = fresh()
    passed(await deliver(a, '/hooks', payload), payload, a)
    expectRefusal(await deliver(b, '/hooks', payload), 409, 'entity.signature.replayed', b.seen)
  })

  it('Stripe: the key lives as long as the timestamp is inside the tolerance', async () => {
    const payload = fresh()
    const t = Math.floor(Date.now() / 1000) - 100
    const header = `t=${t},v1=${v1(payload, t)}`
    const send = (on: { app: Express }) =>
      sendBytes(
        request(on.app).post('/stripe').type('json').set('stripe-signature', header),
        payload,
      )
    passed(await send(b), payload, b)
    expectRefusal(await send(a), 409, 'entity.signature.replayed', a.seen)
    const digest = createHmac('sha256', secret).update(`${t}.${payload}`).digest('base64url')
    const ttl = await probe.pTTL(`safebody:replay:sig:${digest}`)
    // 300 s tolerance, signed 100 s ago: about 201 s left.
    expect(ttl).toBeGreaterThan(195_000)
    expect(ttl).toBeLessThanOrEqual(201_000)
  })

  it('forgets a delivery after the window', async () => {
    const payload = fresh()
    passed(await deliver(a, '/short', payload), payload, a)
    expectRefusal(await deliver(b, '/short', payload), 409, 'entity.signature.replayed', b.seen)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    passed(await deliver(b, '/short', payload), payload, b)
  })

  it('of concurrent duplicate deliveries on both instances, exactly one passes', async () => {
    const payload = fresh()
    const { server: sa, port: pa } = await listen(a.app)
    const { server: sb, port: pb } = await listen(b.app)
    try {
      // Real sockets, all sent before any answer: 24 deliveries of the same body.
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          fetch(`http://127.0.0.1:${i % 2 === 0 ? pa : pb}/hooks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': github(payload) },
            body: payload,
          }).then(async (res) => ({ status: res.status, body: (await res.json()) as unknown })),
        ),
      )
      const statuses = answers.map((answer) => answer.status).sort()
      expect(statuses).toEqual([200, ...Array<number>(23).fill(409)])
      for (const answer of answers.filter((x) => x.status === 409)) {
        expect(answer.body).toMatchObject({ type: 'entity.signature.replayed', status: 409 })
      }
      expect([...a.seen.bodies, ...b.seen.bodies]).toEqual([JSON.parse(payload)])
      a.seen.bodies.length = 0
      b.seen.bodies.length = 0
      expectPrototypesUntouched()
    } finally {
      sa.close()
      sb.close()
    }
  })

  it('Redis not answering (CLIENT PAUSE): 503 after storeTimeout, no hang', async () => {
    const payload = fresh()
    await probe.sendCommand(['CLIENT', 'PAUSE', '1500', 'WRITE'])
    const started = Date.now()
    const res = await deliver(a, '/patient', payload)
    expectRefusal(res, 503, 'replay.store.unavailable', a.seen)
    expect(Date.now() - started).toBeLessThan(1000)
    await probe.sendCommand(['CLIENT', 'UNPAUSE'])
    // Redis then runs the SET it held: the key of a delivery refused with 503. It is freed,
    // so the sender's retry is taken, not refused as a replay (409).
    await new Promise((resolve) => setTimeout(resolve, 300))
    const digest = createHmac('sha256', secret).update(payload).digest('base64url')
    expect(await probe.exists(`safebody:replay:sig:${digest}`)).toBe(0)
    passed(await deliver(a, '/patient', payload), payload, a)
    expectRefusal(await deliver(b, '/patient', payload), 409, 'entity.signature.replayed', b.seen)
  })

  it('Redis going down mid-run: the policy applies, never a 500, never a hang', async () => {
    events.length = 0
    const before = fresh()
    passed(await deliver(a, '/hooks', before), before, a)
    await redis.stop()
    await waitFor(() => !clients.some((client) => client.isReady))

    const payload = fresh()
    const started = Date.now()
    // Default policy: refuse with 503, so the sender retries later.
    expectRefusal(await deliver(a, '/hooks', payload), 503, 'replay.store.unavailable', a.seen)
    expectRefusal(await deliver(b, '/hooks', payload), 503, 'replay.store.unavailable', b.seen)
    // onStoreError: 'pass': through, and reported.
    passed(await deliver(b, '/tolerant', payload), payload, b)
    expect(Date.now() - started).toBeLessThan(1000)
    await tick()
    expect(events.map((e) => [e.action, e.type, e.status])).toEqual([
      ['refused', 'replay.store.unavailable', 503],
      ['refused', 'replay.store.unavailable', 503],
      ['reported', 'replay.store.unavailable', 503],
    ])

    // Back up (empty: no persistence): the clients reconnect and the check works again.
    await redis.restart()
    await waitFor(() => clients.every((client) => client.isReady))
    passed(await deliver(a, '/hooks', payload), payload, a)
    expectRefusal(await deliver(b, '/hooks', payload), 409, 'entity.signature.replayed', b.seen)
  })
})

async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10))
  expect(done()).toBe(true)
}
