import { createHmac } from 'node:crypto'
import { connect } from 'node:net'
import { gzipSync } from 'node:zlib'
import type { Express } from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import bodyParser from '../../src/body-parser/index.js'
import { takeBody } from '../../src/core/body.js'
import { createEngine } from '../../src/core/engine.js'
import { type BodyError, type BodyErrorType, catalogue } from '../../src/errors.js'
import { type SafeBodyOptions, safeBody } from '../../src/index.js'
import {
  buildApp,
  expectPrototypesUntouched,
  frameworks,
  listen,
  type Recorder,
  sendBytes,
  untilClosed,
} from '../helpers/app.js'

// Every catalogued refusal, triggered through a real app: its status, its type, a detail that
// says what to change (naming the setting for the types a setting decides), never the input.
// A type added to the catalogue without a trigger here fails the last test.

const secret = 'catalogue-secret'
const user = {
  type: 'object',
  properties: { name: { type: 'string' } },
  required: ['name'],
  additionalProperties: false,
} as const

function mount(app: Express, echo: Parameters<Parameters<typeof buildApp>[1]>[1]): void {
  const options: SafeBodyOptions = {
    proto: new URL('../../proto/', import.meta.url).pathname,
    routes: {
      'POST /user': user,
      'POST /small': { schema: true, limit: '1kb' },
      'POST /plain': { schema: true, inflate: false },
      'POST /required': { schema: true, required: true },
      'POST /unique': { schema: true, duplicateKeys: 'refuse' },
      'POST /tight': {
        schema: true,
        maxDepth: 2,
        maxKeys: 2,
        maxNodes: 4,
        maxStringLength: 5,
      },
      'POST /slow': { schema: true, timeout: 200 },
      'POST /github': { schema: true, integrity: { preset: 'github', secret } },
      'POST /stripe': { schema: true, integrity: { preset: 'stripe', secret } },
      // Stores that have seen every delivery, or cannot be reached.
      'POST /replayed': {
        schema: true,
        integrity: { preset: 'github', secret, replay: { store: { claim: () => false } } },
      },
      'POST /store-down': {
        schema: true,
        integrity: {
          preset: 'github',
          secret,
          replay: { store: { claim: () => Promise.reject(new Error('down')) } },
        },
      },
      'POST /proto': { schema: true, message: 'demo.User', formats: ['protobuf'] },
    },
  }
  app.use(safeBody(options))
  app.post(/.*/, echo)
}

function parserMount(app: Express, echo: Parameters<Parameters<typeof buildApp>[1]>[1]): void {
  app.post(
    '/verify',
    bodyParser.json({
      verify: () => {
        throw new Error('no')
      },
    }),
    echo,
  )
  app.post('/form', bodyParser.urlencoded({ extended: true, parameterLimit: 2, depth: 1 }), echo)
}

interface Trigger {
  readonly type: BodyErrorType
  /** Path on the safeBody app, or on the body-parser facade app (`facade: true`). */
  readonly path: string
  readonly facade?: boolean
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
}

const json = { 'content-type': 'application/json' }
const stripeHeader = (body: string, at: number) =>
  `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${body}`).digest('hex')}`

const githubHeader = (body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

// protobuf field 99 (varint): not in demo.User.
const unknownField = Buffer.from([0x98, 0x06, 0x01])

const triggers: readonly Trigger[] = [
  { type: 'entity.too.large', path: '/small', headers: json, body: `"${'a'.repeat(2000)}"` },
  {
    type: 'encoding.unsupported',
    path: '/plain',
    headers: { ...json, 'content-encoding': 'gzip' },
    body: gzipSync('{}'),
  },
  {
    type: 'entity.encoding.invalid',
    path: '/user',
    headers: { ...json, 'content-encoding': 'gzip' },
    body: 'not gzip at all',
  },
  { type: 'entity.signature.missing', path: '/github', headers: json, body: '{}' },
  {
    type: 'entity.signature.invalid',
    path: '/github',
    headers: { ...json, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
    body: '{}',
  },
  {
    type: 'entity.signature.expired',
    path: '/stripe',
    headers: { ...json, 'stripe-signature': stripeHeader('{}', 1_000_000_000) },
    body: '{}',
  },
  {
    type: 'entity.signature.replayed',
    path: '/replayed',
    headers: { ...json, 'x-hub-signature-256': githubHeader('{}') },
    body: '{}',
  },
  {
    type: 'replay.store.unavailable',
    path: '/store-down',
    headers: { ...json, 'x-hub-signature-256': githubHeader('{}') },
    body: '{}',
  },
  { type: 'entity.verify.failed', path: '/verify', facade: true, headers: json, body: '{}' },
  {
    type: 'content.type.unsupported',
    path: '/user',
    headers: { 'content-type': 'text/html' },
    body: '<p>hi</p>',
  },
  {
    type: 'charset.unsupported',
    path: '/user',
    headers: { 'content-type': 'application/json; charset=latin1' },
    body: '{}',
  },
  { type: 'route.schema.missing', path: '/nowhere', headers: json, body: '{}' },
  { type: 'entity.missing', path: '/required', headers: json },
  { type: 'entity.parse.failed', path: '/user', headers: json, body: '{"name":' },
  {
    type: 'entity.utf8.invalid',
    path: '/user',
    headers: json,
    body: Buffer.from([0x22, 0xff, 0x22]),
  },
  { type: 'entity.type.unmapped', path: '/tight', headers: json, body: '1e400' },
  {
    type: 'entity.field.unknown',
    path: '/proto',
    headers: { 'content-type': 'application/x-protobuf' },
    body: unknownField,
  },
  { type: 'entity.forbidden.key', path: '/user', headers: json, body: '{"__proto__":{"x":1}}' },
  { type: 'entity.key.duplicate', path: '/unique', headers: json, body: '{"a":1,"a":2}' },
  { type: 'entity.too.deep', path: '/tight', headers: json, body: '[[[1]]]' },
  { type: 'entity.too.many.keys', path: '/tight', headers: json, body: '{"a":1,"b":2,"c":3}' },
  { type: 'entity.too.many.nodes', path: '/tight', headers: json, body: '[1,2,3,4,5]' },
  { type: 'entity.string.too.long', path: '/tight', headers: json, body: '"abcdefgh"' },
  {
    type: 'parameters.too.many',
    path: '/form',
    facade: true,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'a=1&b=2&c=3',
  },
  {
    type: 'querystring.parse.rangeError',
    path: '/form',
    facade: true,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'a[b][c][d]=1',
  },
  { type: 'entity.validation.failed', path: '/user', headers: json, body: '{"name":7}' },
]

const seenTypes = new Set<BodyErrorType>()

/** The detail says what to change: present, in our words, naming the setting where one decides. */
function expectDetail(type: BodyErrorType, detail: unknown, sent?: string | Buffer): void {
  expect(typeof detail).toBe('string')
  expect((detail as string).length).toBeGreaterThan(10)
  const setting = (catalogue[type] as { setting?: string }).setting
  if (setting !== undefined) expect(detail).toContain(`\`${setting}\``)
  // Never a copy of the input.
  if (typeof sent === 'string' && sent.length > 8) expect(detail).not.toContain(sent)
  seenTypes.add(type)
}

describe.each(frameworks)('every catalogued refusal through the app (%s)', (_name, express) => {
  const app = buildApp(express, mount)
  const facade = buildApp(express, parserMount)

  it.each(triggers)('$type', async (trigger) => {
    const target = trigger.facade ? facade : app
    const handled = target.seen.bodies.length
    let test = request(target.app).post(trigger.path)
    for (const [name, value] of Object.entries(trigger.headers ?? {})) test = test.set(name, value)
    const res = trigger.body === undefined ? await test : await sendBytes(test, trigger.body)
    const status = catalogue[trigger.type].status
    expect(res.status).toBe(status)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.body).toMatchObject({ type: trigger.type, status })
    expectDetail(trigger.type, res.body.detail, trigger.body)
    const err = target.seen.errors.at(-1) as BodyError
    expect(err.type).toBe(trigger.type)
    expect(err.detail).toBe(res.body.detail)
    expect(target.seen.bodies).toHaveLength(handled)
    expectPrototypesUntouched()
  })

  it('request.timeout: a body that stops arriving', async () => {
    const { server, port } = await listen(app.app)
    try {
      const answer = await untilClosed(
        port,
        'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a"',
      )
      expect(answer).toMatch(/^HTTP\/1\.1 408 /)
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
        type: string
        detail: string
      }
      expect(body.type).toBe('request.timeout')
      expectDetail('request.timeout', body.detail)
      expectPrototypesUntouched()
    } finally {
      server.close()
    }
  })

  it('request.aborted: a client that goes away mid-body', async () => {
    const { server, port } = await listen(app.app)
    const seen: Recorder = app.seen
    const before = seen.errors.length
    try {
      const socket = connect(port, '127.0.0.1')
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
      socket.write(
        'POST /user HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name"',
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
      socket.destroy()
      await waitFor(() => seen.errors.length > before)
      const err = seen.errors.at(-1) as BodyError
      expect(err.status).toBe(400)
      expect(err.type).toBe('request.aborted')
      expectDetail('request.aborted', err.detail)
      expectPrototypesUntouched()
    } finally {
      server.close()
    }
  })
})

// Node's HTTP parser ends a message at its Content-Length, so a body shorter or longer than
// declared never reaches an adapter on node:http; the core still checks, for sources that
// are not (a Web stream, bytes). Tried here on the core, with bytes.
describe('request.size.invalid', () => {
  it('a body shorter than its Content-Length, given as bytes', async () => {
    const engine = createEngine({ routes: { 'POST /x': true } })
    const err = await new Promise<unknown>((resolve) => {
      takeBody(
        engine.scope,
        engine.find('POST', '/x'),
        {
          method: 'POST',
          path: '/x',
          headers: { 'content-type': 'application/json', 'content-length': '10' },
        },
        Buffer.from('{}'),
        (error) => resolve(error),
      )
    })
    expect(err).toMatchObject({ status: 400, type: 'request.size.invalid' })
    expectDetail('request.size.invalid', (err as BodyError).detail)
    expectPrototypesUntouched()
  })
})

describe('the catalogue', () => {
  it('has no type without a trigger above', () => {
    expect([...seenTypes].sort()).toEqual(Object.keys(catalogue).sort())
  })
})

async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10))
  expect(done()).toBe(true)
}
