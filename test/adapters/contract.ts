import { execFile } from 'node:child_process'
import { createHmac } from 'node:crypto'
import type { Server } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { encode as encodeMsgpack } from '@msgpack/msgpack'
import protobuf from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReplayStore, SafeBodyOptions, ViolationEvent } from '../../src/index.js'
import { expectPrototypesUntouched, untilClosed } from '../helpers/app.js'
import { parseResponse } from '../hardening/client.js'

// The adapter contract (issue 15): one safeBody options object, one list of requests, the
// same answer from every server adapter. An adapter's test builds a real server from
// `contractOptions()`, mounts `contractPaths` as POST routes that echo what they received,
// renders refusals as JSON `{ type, status, detail }` (or problem+json), and calls
// `describeContract`. The cases travel over raw TCP, so slow and half-sent bodies are real.
//
// What the server must do, whatever the framework:
// - POST on each of `contractPaths`, and GET on `contractGetPath` (HEAD too, as the framework
//   routes it), answers 200 with JSON `{ body }`: the value the adapter handed the route
//   (`body` left out when there was none);
// - a refusal answers its `status` with a JSON body holding safebody's `type`;
// - `/contract/unbound` is a route the application has, with no binding in the options.

/** The routes every contract server mounts (POST, echoing the body). */
export const contractPaths = [
  '/contract/users',
  '/contract/open',
  '/contract/report',
  '/contract/hook',
  '/contract/report-hook',
  '/contract/unbound',
  '/contract/hook-store',
  '/contract/hook-store-getter',
] as const

/**
 * The route every contract server mounts for GET (echoing the body as the POST routes do). It
 * has no HEAD route of its own: the framework hands a HEAD to the GET handler, and safebody
 * holds it to the GET binding.
 */
export const contractGetPath = '/contract/feed'

/** The GitHub-preset secret of `/contract/hook` and `/contract/feed`. */
export const contractSecret = 'contract-secret'

/** The user schema the typed routes use. */
export const contractUser = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    email: { type: 'string', minLength: 3 },
    age: { type: 'integer', minimum: 0 },
    tags: { type: 'array', items: { type: 'string' } },
    role: { type: 'string' },
  },
  required: ['name', 'email'],
} as const

/** contractUser with a name of three characters at least: a second, stricter binding. */
export const contractUserStrict = {
  ...contractUser,
  properties: { ...contractUser.properties, name: { type: 'string', minLength: 3 } },
} as const

/** The `.proto` folder (demo.User is the message type of `/contract/users`). */
export const contractProto = fileURLToPath(new URL('../../proto/', import.meta.url))

/** What `onViolation` was told, in order, by the servers built from `contractOptions()`. */
export const contractEvents: ViolationEvent[] = []

/** A replay store whose claim answers a thenable whose `then` throws (a client not connected). */
const throwingThen: ReplayStore = {
  claim: () => ({
    then() {
      throw new Error('client not connected')
    },
  }),
}
/** One whose claim answers an object whose `then` getter throws. */
const throwingGetter: ReplayStore = {
  claim: () =>
    Object.defineProperty({}, 'then', {
      get() {
        throw new Error('client not connected')
      },
    }) as PromiseLike<boolean>,
}

const failing = (store: ReplayStore) => ({ store, storeTimeout: 8000 })

/** The one options object every adapter is built with. */
export function contractOptions(): SafeBodyOptions {
  return {
    proto: contractProto,
    onViolation: (event) => {
      contractEvents.push(event)
    },
    routes: {
      'POST /contract/users': {
        schema: contractUser,
        message: 'demo.User',
        formats: ['json', 'msgpack', 'yaml', 'protobuf', 'urlencoded'],
      },
      'POST /contract/open': { schema: true, limit: '16kb', maxDepth: 8, timeout: 300 },
      'POST /contract/report': { schema: contractUser, mode: 'report' },
      'POST /contract/hook': {
        schema: { type: 'object', required: ['action'] },
        integrity: { preset: 'github', secret: contractSecret },
      },
      'POST /contract/report-hook': {
        schema: { type: 'object' },
        mode: 'report',
        integrity: { preset: 'github', secret: contractSecret },
      },
      // Replay stores whose claim answers a thenable that throws when adopted: the store
      // failing, answered at once (a storeTimeout past the client's deadline: not its expiry).
      'POST /contract/hook-store': {
        schema: true,
        integrity: { preset: 'github', secret: contractSecret, replay: failing(throwingThen) },
      },
      'POST /contract/hook-store-getter': {
        schema: true,
        integrity: { preset: 'github', secret: contractSecret, replay: failing(throwingGetter) },
      },
      [`GET ${contractGetPath}`]: {
        schema: { type: 'object', required: ['since'] },
        required: true,
        integrity: { preset: 'github', secret: contractSecret },
      },
      // Never consulted: the GET binding holds a HEAD (Hono and fastify always run the GET
      // handler for one).
      [`HEAD ${contractGetPath}`]: { schema: true },
    },
  }
}

/** One request and the answer every adapter must give. */
export interface ContractCase {
  /** Names the test. */
  readonly name: string
  /** One of `contractPaths`. */
  readonly path: (typeof contractPaths)[number] | typeof contractGetPath
  /** POST unless given. */
  readonly method?: 'GET' | 'HEAD'
  /** The request-target sent, when it spells `path` another way (absolute form, a fragment). */
  readonly target?: string
  /** Request headers; Content-Length is added from the body unless given. */
  readonly headers: Readonly<Record<string, string>>
  /** Header lines sent after `headers` as they are, so a name may repeat one of them. */
  readonly moreLines?: readonly string[]
  readonly body: Buffer
  /**
   * How the body is sent: all at once (default), or the head and the first `bytes` of the body,
   * then nothing more (the socket stays open until the server answers).
   */
  readonly delivery?: { readonly kind: 'partial'; readonly bytes: number }
  readonly expectStatus: number
  /** safebody's `type` in the JSON error body; refusals only (a HEAD answer has no body). */
  readonly expectType?: string
  /** For 2xx: what the echoed `body` must match (toMatchObject), or `undefined` for none. */
  readonly expectBody?: unknown
}

const ada = { name: 'Ada', email: 'ada@example.com', age: 36, tags: ['math'] }
const json = (value: unknown) => Buffer.from(JSON.stringify(value))
const jsonType = { 'content-type': 'application/json' }
const userType = protobuf
  .loadSync(fileURLToPath(new URL('../../proto/demo.proto', import.meta.url)))
  .lookupType('demo.User')

function deep(levels: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < levels; i++) value = [value]
  return value
}

function githubSignature(body: Buffer, secret = contractSecret): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

const hookBody = json({ action: 'opened', number: 7 })
const feedBody = json({ since: 7 })
const noBody = Buffer.alloc(0)

/** `body` in HTTP/1.1 chunked framing: one chunk, then the last. */
function chunked(body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`${body.length.toString(16)}\r\n`),
    body,
    Buffer.from('\r\n0\r\n\r\n'),
  ])
}

/** Every contract case, in a stable order. Adding a case is fine; renaming one is not. */
export const contractCases: readonly ContractCase[] = [
  {
    name: 'valid JSON body',
    path: '/contract/users',
    headers: jsonType,
    body: json(ada),
    expectStatus: 200,
    expectBody: ada,
  },
  {
    name: 'MessagePack body',
    path: '/contract/users',
    headers: { 'content-type': 'application/msgpack' },
    body: Buffer.from(encodeMsgpack(ada)),
    expectStatus: 200,
    expectBody: ada,
  },
  {
    name: 'YAML body',
    path: '/contract/users',
    headers: { 'content-type': 'application/yaml' },
    body: Buffer.from('name: Ada\nemail: ada@example.com\nage: 36\ntags:\n  - math\n'),
    expectStatus: 200,
    expectBody: ada,
  },
  {
    name: 'protobuf body',
    path: '/contract/users',
    headers: { 'content-type': 'application/x-protobuf' },
    body: Buffer.from(userType.encode(userType.fromObject(ada)).finish()),
    expectStatus: 200,
    expectBody: ada,
  },
  {
    name: 'urlencoded body',
    path: '/contract/users',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from('name=Ada&email=ada%40example.com'),
    expectStatus: 200,
    expectBody: { name: 'Ada', email: 'ada@example.com' },
  },
  {
    name: 'no body on a route that does not require one',
    path: '/contract/open',
    headers: {},
    body: Buffer.alloc(0),
    expectStatus: 200,
    expectBody: undefined,
  },
  {
    name: '__proto__ key',
    path: '/contract/open',
    headers: jsonType,
    body: Buffer.from('{"a":1,"__proto__":{"polluted":true}}'),
    expectStatus: 400,
    expectType: 'entity.forbidden.key',
  },
  {
    name: 'nested too deeply',
    path: '/contract/open',
    headers: jsonType,
    body: json(deep(20)),
    expectStatus: 400,
    expectType: 'entity.too.deep',
  },
  {
    name: 'Content-Type the route does not accept',
    path: '/contract/users',
    headers: { 'content-type': 'text/csv' },
    body: Buffer.from('name,email\nAda,ada@example.com\n'),
    expectStatus: 415,
    expectType: 'content.type.unsupported',
  },
  {
    // Node keeps the first line, fetch joins them, a proxy may read the last: refused on all.
    name: 'two Content-Type lines, JSON first',
    path: '/contract/users',
    headers: jsonType,
    moreLines: ['Content-Type: text/plain'],
    body: json(ada),
    expectStatus: 415,
    expectType: 'content.type.unsupported',
  },
  {
    name: 'the same Content-Type line twice',
    path: '/contract/users',
    headers: jsonType,
    moreLines: ['CONTENT-TYPE: application/json'],
    body: json(ada),
    expectStatus: 415,
    expectType: 'content.type.unsupported',
  },
  {
    // Reported, and the body decoded by the first line, as the application behind reads it.
    name: 'two Content-Type lines on a report-mode route',
    path: '/contract/report',
    headers: jsonType,
    moreLines: ['Content-Type: text/plain'],
    body: json(ada),
    expectStatus: 200,
    expectBody: ada,
  },
  {
    name: "replay store answering a thenable whose then throws: 503, the store's failure",
    path: '/contract/hook-store',
    headers: { ...jsonType, 'x-hub-signature-256': githubSignature(hookBody) },
    body: hookBody,
    expectStatus: 503,
    expectType: 'replay.store.unavailable',
  },
  {
    name: "replay store answering an object whose then getter throws: 503, the store's failure",
    path: '/contract/hook-store-getter',
    headers: { ...jsonType, 'x-hub-signature-256': githubSignature(hookBody) },
    body: hookBody,
    expectStatus: 503,
    expectType: 'replay.store.unavailable',
  },
  {
    name: 'body on a route with no binding',
    path: '/contract/unbound',
    headers: jsonType,
    body: json(ada),
    expectStatus: 415,
    expectType: 'route.schema.missing',
  },
  {
    name: 'Content-Length above the limit, body never sent',
    path: '/contract/open',
    headers: { ...jsonType, 'content-length': String(1024 * 1024) },
    body: Buffer.alloc(0),
    delivery: { kind: 'partial', bytes: 0 },
    expectStatus: 413,
    expectType: 'entity.too.large',
  },
  {
    name: 'body sent too slowly',
    path: '/contract/open',
    headers: { ...jsonType, 'content-length': '20' },
    body: Buffer.from('{"slow":"abcdefghi"}'),
    delivery: { kind: 'partial', bytes: 5 },
    expectStatus: 408,
    expectType: 'request.timeout',
  },
  {
    name: 'gzip bomb',
    path: '/contract/open',
    headers: { ...jsonType, 'content-encoding': 'gzip' },
    body: gzipSync(Buffer.from(`{"a":"${'0'.repeat(4 * 1024 * 1024)}"}`)),
    expectStatus: 413,
    expectType: 'entity.too.large',
  },
  {
    name: 'schema failure',
    path: '/contract/users',
    headers: jsonType,
    body: json({ name: '' }),
    expectStatus: 422,
    expectType: 'entity.validation.failed',
  },
  {
    name: 'report mode lets a schema failure through',
    path: '/contract/report',
    headers: jsonType,
    body: json({ name: '' }),
    expectStatus: 200,
    expectBody: { name: '' },
  },
  {
    name: 'GitHub signature valid',
    path: '/contract/hook',
    headers: { ...jsonType, 'x-hub-signature-256': githubSignature(hookBody) },
    body: hookBody,
    expectStatus: 200,
    expectBody: { action: 'opened', number: 7 },
  },
  {
    name: 'GitHub signature invalid',
    path: '/contract/hook',
    headers: { ...jsonType, 'x-hub-signature-256': githubSignature(hookBody, 'wrong') },
    body: hookBody,
    expectStatus: 401,
    expectType: 'entity.signature.invalid',
  },
  {
    name: 'no body and no signature on a signed route',
    path: '/contract/hook',
    headers: {},
    body: Buffer.alloc(0),
    expectStatus: 401,
    expectType: 'entity.signature.missing',
  },
  {
    name: 'GET: a signed body on a GET route',
    method: 'GET',
    path: contractGetPath,
    headers: { ...jsonType, 'x-hub-signature-256': githubSignature(feedBody) },
    body: feedBody,
    expectStatus: 200,
    expectBody: { since: 7 },
  },
  {
    name: 'GET: no signature on a signed GET route',
    method: 'GET',
    path: contractGetPath,
    headers: jsonType,
    body: feedBody,
    expectStatus: 401,
    expectType: 'entity.signature.missing',
  },
  {
    name: 'GET: no body on a GET route that requires one',
    method: 'GET',
    path: contractGetPath,
    headers: { 'x-hub-signature-256': githubSignature(noBody) },
    body: noBody,
    expectStatus: 400,
    expectType: 'entity.missing',
  },
  // The framework runs the GET handler for a HEAD: it is held to the GET binding.
  {
    name: 'HEAD: no signature, held to the GET binding',
    method: 'HEAD',
    path: contractGetPath,
    headers: {},
    body: noBody,
    expectStatus: 401,
  },
  {
    name: 'HEAD: signed, no body, on a GET binding that requires one',
    method: 'HEAD',
    path: contractGetPath,
    headers: { 'x-hub-signature-256': githubSignature(noBody) },
    body: noBody,
    expectStatus: 400,
  },
  {
    name: "HEAD: a signed body the GET binding's schema refuses",
    method: 'HEAD',
    path: contractGetPath,
    headers: { ...jsonType, 'x-hub-signature-256': githubSignature(hookBody) },
    body: hookBody,
    expectStatus: 422,
  },
  {
    name: 'HEAD: a signed body the GET binding accepts',
    method: 'HEAD',
    path: contractGetPath,
    headers: { ...jsonType, 'x-hub-signature-256': githubSignature(feedBody) },
    body: feedBody,
    expectStatus: 200,
  },
  {
    // No Content-Type and no length: an empty body is no body, as Content-Length: 0 is.
    name: 'an empty chunked body with no Content-Type',
    path: '/contract/users',
    headers: { 'transfer-encoding': 'chunked' },
    body: Buffer.from('0\r\n\r\n'),
    expectStatus: 200,
  },
  {
    name: 'a chunked body with no Content-Type',
    path: '/contract/users',
    headers: { 'transfer-encoding': 'chunked' },
    body: chunked(json(ada)),
    expectStatus: 415,
    expectType: 'content.type.unsupported',
  },
  {
    // Compressed, the same: a gzip stream of nothing (20 bytes on the wire) is no body.
    name: 'a gzip-coded empty chunked body with no Content-Type',
    path: '/contract/users',
    headers: { 'transfer-encoding': 'chunked', 'content-encoding': 'gzip' },
    body: chunked(gzipSync(Buffer.alloc(0))),
    expectStatus: 200,
  },
  {
    name: 'a gzip-coded chunked body with no Content-Type',
    path: '/contract/users',
    headers: { 'transfer-encoding': 'chunked', 'content-encoding': 'gzip' },
    body: chunked(gzipSync(json(ada))),
    expectStatus: 415,
    expectType: 'content.type.unsupported',
  },
  {
    name: 'a chunked body with no Content-Type on a route with no binding',
    path: '/contract/unbound',
    headers: { 'transfer-encoding': 'chunked' },
    body: chunked(json(ada)),
    expectStatus: 415,
    expectType: 'route.schema.missing',
  },
  {
    // Report mode leaves a body of no type unread, but a signed route must read it to verify.
    name: 'report mode, signed: an empty chunked body with no Content-Type',
    path: '/contract/report-hook',
    headers: { 'transfer-encoding': 'chunked', 'x-hub-signature-256': githubSignature(noBody) },
    body: Buffer.from('0\r\n\r\n'),
    expectStatus: 200,
  },
  {
    name: 'report mode, signed: a chunked body with no Content-Type',
    path: '/contract/report-hook',
    headers: { 'transfer-encoding': 'chunked', 'x-hub-signature-256': githubSignature(hookBody) },
    body: chunked(hookBody),
    expectStatus: 415,
    expectType: 'content.type.unsupported',
  },
  {
    // Required: the GET binding holds it, and an empty chunked body is none.
    name: 'HEAD: a signed empty chunked body with no Content-Type',
    method: 'HEAD',
    path: contractGetPath,
    headers: { 'transfer-encoding': 'chunked', 'x-hub-signature-256': githubSignature(noBody) },
    body: Buffer.from('0\r\n\r\n'),
    expectStatus: 400,
  },
  {
    // Node removes the chunking only: the body would arrive still gzip-coded.
    name: 'Transfer-Encoding with a coding besides chunked',
    path: '/contract/open',
    headers: { ...jsonType, 'transfer-encoding': 'gzip, chunked' },
    body: chunked(gzipSync(json({ a: 1 }))),
    expectStatus: 415,
    expectType: 'encoding.unsupported',
  },
  {
    name: 'absolute-form request target',
    path: '/contract/users',
    target: 'http://localhost/contract/users',
    headers: jsonType,
    body: json({ name: '' }),
    expectStatus: 422,
    expectType: 'entity.validation.failed',
  },
  {
    name: 'request target with a fragment',
    path: '/contract/users',
    target: '/contract/users#top',
    headers: jsonType,
    body: json({ name: '' }),
    expectStatus: 422,
    expectType: 'entity.validation.failed',
  },
]

/** What came back for one case. */
export interface ContractOutcome {
  status: number
  headers: Record<string, string>
  /** The response body, parsed when it is JSON. */
  body: unknown
}

/** Past this, a case is a hang. */
const DEADLINE_MS = 5000

/** Send one case to `baseUrl` (`http://127.0.0.1:port`) over a raw socket; read the answer. */
export function sendContractCase(baseUrl: string, entry: ContractCase): Promise<ContractOutcome> {
  const { hostname, port } = new URL(baseUrl)
  const headers: Record<string, string> = { host: `${hostname}:${port}`, connection: 'close' }
  for (const [name, value] of Object.entries(entry.headers)) headers[name.toLowerCase()] = value
  if (
    entry.body.length > 0 &&
    headers['content-length'] === undefined &&
    headers['transfer-encoding'] === undefined
  ) {
    headers['content-length'] = String(entry.body.length)
  }
  const head = [
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ...(entry.moreLines ?? []),
  ]
    .map((line) => `${line}\r\n`)
    .join('')
  const sent =
    entry.delivery === undefined ? entry.body : entry.body.subarray(0, entry.delivery.bytes)
  const request = Buffer.concat([
    Buffer.from(`${entry.method ?? 'POST'} ${entry.target ?? entry.path} HTTP/1.1\r\n${head}\r\n`),
    sent,
  ])
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    const chunks: Buffer[] = []
    let settled = false
    const finish = (closed: boolean) => {
      if (settled) return
      const parsed = parseResponse(Buffer.concat(chunks), closed)
      if (parsed === null && !closed) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (parsed === null) reject(new Error(`${entry.name}: the connection closed unanswered`))
      else resolve(parsed)
    }
    const timer = setTimeout(() => {
      settled = true
      socket.destroy()
      reject(new Error(`${entry.name}: no answer within ${DEADLINE_MS} ms`))
    }, DEADLINE_MS)
    socket.on('error', () => {
      // A reset after the server refused mid-body is expected; close decides.
    })
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      finish(false)
    })
    socket.on('close', () => finish(true))
    socket.write(request)
  })
}

/** Assert the answer a case must get: status, safebody's type, the echoed body. */
export function expectContractOutcome(entry: ContractCase, outcome: ContractOutcome): void {
  const body = outcome.body as { type?: unknown; status?: unknown; body?: unknown } | undefined
  expect(outcome.status, `${entry.name}: ${JSON.stringify(outcome.body)}`).toBe(entry.expectStatus)
  expect(outcome.headers['content-type']).toMatch(/^application\/(problem\+)?json/)
  if (entry.method === 'HEAD') {
    // The status and the headers are all a HEAD answer carries.
    expect(outcome.body).toBe('')
  } else if (entry.expectType !== undefined) {
    expect(body?.type).toBe(entry.expectType)
  }
  if (entry.expectStatus < 300 && entry.method !== 'HEAD') {
    if (entry.expectBody === undefined) expect(body?.body).toBeUndefined()
    else expect(body?.body).toMatchObject(entry.expectBody as object)
  }
  expectPrototypesUntouched()
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
}

/**
 * Requests refused while their headers are handled, each sent with a valid request pipelined
 * behind it in one write: Node parses both before either is answered, so closing the
 * connection after the refusal would drop the second answer after its handler ran.
 */
const pipelinedCases: ReadonlyArray<readonly [string, ContractCase]> = [
  [
    'an unsupported content type (415)',
    {
      name: 'pipelined 415',
      path: '/contract/users',
      headers: { 'content-type': 'text/csv' },
      body: Buffer.from('a,b\n1,2\n'),
      expectStatus: 415,
      expectType: 'content.type.unsupported',
    },
  ],
  [
    'an unsigned webhook (401)',
    {
      name: 'pipelined 401',
      path: '/contract/hook',
      headers: jsonType,
      body: hookBody,
      expectStatus: 401,
      expectType: 'entity.signature.missing',
    },
  ],
  [
    'an invalid body (422)',
    {
      name: 'pipelined 422',
      path: '/contract/users',
      headers: jsonType,
      body: json({ name: '' }),
      expectStatus: 422,
      expectType: 'entity.validation.failed',
    },
  ],
]

/** One HTTP/1.1 request as bytes; `close` asks the server to close after answering. */
function requestBytes(baseUrl: string, entry: ContractCase, close: boolean): Buffer {
  const { host } = new URL(baseUrl)
  const head = Object.entries({
    host,
    ...entry.headers,
    'content-length': String(entry.body.length),
    ...(close ? { connection: 'close' } : {}),
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  return Buffer.concat([Buffer.from(`POST ${entry.path} HTTP/1.1\r\n${head}\r\n`), entry.body])
}

/** Write `bytes` on one connection and read until the server closes it (5 s at most). */
function exchange(baseUrl: string, bytes: Buffer): Promise<Buffer> {
  const { hostname, port } = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the connection was still open after ${DEADLINE_MS} ms`))
    }, DEADLINE_MS)
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks))
    })
    socket.write(bytes)
  })
}

/** Split the answers a connection carried, each framed by Content-Length or chunked. */
function answers(bytes: Buffer): ContractOutcome[] {
  const out: ContractOutcome[] = []
  let rest = bytes
  while (rest.length > 0) {
    const parsed = parseResponse(rest)
    if (parsed === null) break
    out.push(parsed)
    const head = rest.indexOf('\r\n\r\n') + 4
    const length = parsed.headers['content-length']
    const end =
      length !== undefined ? head + Number(length) : rest.indexOf('\r\n0\r\n\r\n', head) + 7
    rest = rest.subarray(end)
  }
  return out
}

/** The per-route binding of `/limited` behind a global one: its own limit and duplicate rule. */
export const contractLimited = {
  schema: { type: 'object' },
  limit: 64,
  duplicateKeys: 'refuse',
} as const

/**
 * A server with a global instance binding `POST /users` (contractUser) and `POST /limited`
 * (any object), and per-route instances behind it (contractUserStrict, contractLimited), both
 * echoing `{ body }`: the body is taken once and held to both bindings' rules.
 */
export async function expectHeldToBoth(baseUrl: string): Promise<void> {
  const post = (path: string, body: string) =>
    fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
  const ok = await post('/users', '{"name":"Ada","email":"ada@example.com"}')
  expect(ok.status).toBe(200)
  expect(await ok.json()).toEqual({ body: { name: 'Ada', email: 'ada@example.com' } })
  // The global binding passes it, the per-route one does not: both hold.
  const short = await post('/users', '{"name":"Al","email":"al@example.com"}')
  expect(short.status).toBe(422)
  expect(await short.json()).toMatchObject({ type: 'entity.validation.failed' })
  // The per-route binding's read and decoding rules hold too.
  const long = await post('/limited', `{"name":"${'a'.repeat(80)}"}`)
  expect(long.status).toBe(413)
  expect(await long.json()).toMatchObject({ type: 'entity.too.large' })
  const twice = await post('/limited', '{"name":"a","name":"b"}')
  expect(twice.status).toBe(400)
  expect(await twice.json()).toMatchObject({ type: 'entity.key.duplicate' })
  // An empty chunked body, which the global instance reads to find it empty: none to the
  // per-route one too, which requires a body (never a 500 for a stream already read).
  const { host } = new URL(baseUrl)
  for (const type of ['', 'Content-Type: application/json\r\n']) {
    const bytes = Buffer.from(
      `POST /users HTTP/1.1\r\nHost: ${host}\r\n${type}Transfer-Encoding: chunked\r\n` +
        'Connection: close\r\n\r\n0\r\n\r\n',
    )
    const [empty] = answers(await exchange(baseUrl, bytes))
    expect(empty?.status, type).toBe(400)
    expect(empty?.body).toMatchObject({ type: 'entity.missing' })
  }
  expectPrototypesUntouched()
}

/** A running contract server. */
export interface ContractServer {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string
  close(): Promise<void> | void
}

/** A server listening on 127.0.0.1 as a ContractServer; close drops its connections. */
export async function served(server: Server): Promise<ContractServer> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

/**
 * Register the contract suite for one adapter: `start` builds its server from
 * `contractOptions()` and `contractPaths`; every case runs against it.
 *
 * @example
 * describeContract('node:http', async () => nodeContractServer())
 */
export function describeContract(name: string, start: () => Promise<ContractServer>): void {
  describe(`adapter contract: ${name}`, () => {
    let server: ContractServer
    beforeAll(async () => {
      server = await start()
    })
    afterAll(async () => {
      await server?.close()
    })
    it.each(contractCases.map((c) => [c.name, c] as const))('%s', async (_name, entry) => {
      expectContractOutcome(entry, await sendContractCase(server.baseUrl, entry))
    })
    it.each(pipelinedCases)(
      'answers a request pipelined behind %s, on the same connection',
      async (_name, refused) => {
        const valid = contractCases[0] as ContractCase
        const bytes = Buffer.concat([
          requestBytes(server.baseUrl, refused, false),
          requestBytes(server.baseUrl, valid, true),
        ])
        const [first, second, ...more] = answers(await exchange(server.baseUrl, bytes))
        expect(first?.headers.connection).not.toBe('close')
        expectContractOutcome(refused, first as ContractOutcome)
        expect(second, 'the pipelined request got no answer').toBeDefined()
        expectContractOutcome(valid, second as ContractOutcome)
        expect(more).toEqual([])
      },
    )
    // A refusal of a body still arriving reaches a client that reads while it sends: the
    // server ends its side after the answer and stops reading, then closes a second later
    // (closing at once, with bytes unread, resets the connection, which discards the answer
    // on the client's side before it reads it).
    it('delivers the 413 to clients still sending their 4 MiB, and closes after it', async () => {
      const uploads = await Promise.all(
        Array.from({ length: 5 }, () =>
          uploadRefused(server.baseUrl, {
            declared: 4 * 1024 * 1024,
            // All of it in one write, as Node's http client and fetch send a Buffer body.
            chunk: 4 * 1024 * 1024,
            paceMs: 0,
            sendMs: DEADLINE_MS,
          }),
        ),
      )
      for (const { outcome, closedAt } of uploads) {
        expect(outcome, 'the answer was lost').not.toBeNull()
        expect(outcome?.status).toBe(413)
        expect(outcome?.headers.connection).toBe('close')
        expect(outcome?.body).toMatchObject({ type: 'entity.too.large' })
        expect(closedAt).toBeLessThan(DEADLINE_MS)
      }
      expectPrototypesUntouched()
    })
    it('closes the connection although the client keeps sending, slowly, for longer', async () => {
      const { outcome, closedAt } = await uploadRefused(server.baseUrl, {
        declared: 64 * 1024 * 1024,
        chunk: 1024,
        paceMs: 20,
        sendMs: 2 * DEADLINE_MS,
      })
      expect(outcome?.status).toBe(413)
      expect(outcome?.body).toMatchObject({ type: 'entity.too.large' })
      // The client would have gone on for 10 s; the server closes a second after its answer.
      expect(closedAt).toBeLessThan(3000)
      expectPrototypesUntouched()
    })
    it('reads no more of a refused body the client sends as fast as it can', async () => {
      const { outcome, sent } = await uploadRefused(server.baseUrl, {
        declared: 256 * 1024 * 1024,
        chunk: 256 * 1024,
        paceMs: 0,
        sendMs: 2 * DEADLINE_MS,
      })
      expect(outcome?.status).toBe(413)
      expect(outcome?.body).toMatchObject({ type: 'entity.too.large' })
      // In the second before the close the client could have sent it all, had the server
      // read on; the kernels' buffers hold a few MiB.
      expect(sent).toBeLessThan(32 * 1024 * 1024)
      expectPrototypesUntouched()
    })
    // While the connection lingers, nothing more is parsed: a request pipelined behind the
    // rest of the refused body is never run (its answer could not be sent after the close).
    it('never runs a request pipelined behind a refused body still arriving', async () => {
      // A request safebody reports (onViolation) when it is run, whatever becomes of its answer.
      const probe = contractCases.find(
        (entry) => entry.name === 'report mode lets a schema failure through',
      ) as ContractCase
      const probed = () => contractEvents.filter((event) => event.path === probe.path).length
      const before = probed()
      const refused: ContractCase = {
        name: 'a body over the limit',
        path: '/contract/open',
        headers: jsonType,
        body: Buffer.alloc(64 * 1024, 0x20),
        expectStatus: 413,
      }
      const bytes = requestBytes(server.baseUrl, refused, false)
      const head = bytes.indexOf('\r\n\r\n') + 4
      const { first, closedAt } = await sendAfterAnswer(
        server.baseUrl,
        bytes.subarray(0, head),
        Buffer.concat([bytes.subarray(head), requestBytes(server.baseUrl, probe, true)]),
      )
      expect(first?.status).toBe(413)
      expect(first?.headers.connection).toBe('close')
      expect(first?.body).toMatchObject({ type: 'entity.too.large' })
      expect(closedAt).toBeLessThan(DEADLINE_MS)
      await new Promise((next) => setTimeout(next, 100))
      expect(probed(), 'the pipelined request was run').toBe(before)
      // The probe is seen when it is run: alone, on a connection of its own.
      expectContractOutcome(probe, await sendContractCase(server.baseUrl, probe))
      expect(probed()).toBe(before + 1)
    })
  })
}

/** What a client still sending a refused body saw: the answer, if it read one, and when. */
interface Upload {
  outcome: ContractOutcome | null
  /** When (ms after the request began) the connection closed. */
  closedAt: number
  /** How many body bytes the client wrote. */
  sent: number
}

const run = promisify(execFile)
const uploadClient = fileURLToPath(new URL('../helpers/upload-client.mjs', import.meta.url))

/**
 * POST to `path` (`/contract/open`, limit 16kb, unless given) declaring `declared` bytes, then
 * send `chunk` bytes after `chunk` (`paceMs` apart) until `sendMs` pass or the socket fails,
 * reading the answer as it comes: test/helpers/upload-client.mjs, in a process of its own.
 */
export async function uploadRefused(
  baseUrl: string,
  {
    path = '/contract/open',
    ...sending
  }: { path?: string; declared: number; chunk: number; paceMs: number; sendMs: number },
): Promise<Upload> {
  const { hostname: host, port } = new URL(baseUrl)
  const { stdout } = await run(process.execPath, [
    uploadClient,
    JSON.stringify({ port: Number(port), host, path, ...sending }),
  ])
  const { received, closedAt, sent } = JSON.parse(stdout) as {
    received: string
    closedAt: number
    sent: number
  }
  return { outcome: parseResponse(Buffer.from(received, 'base64'), true), closedAt, sent }
}

const pipelineClient = fileURLToPath(new URL('../helpers/pipeline-client.mjs', import.meta.url))

/**
 * Write `head` to `baseUrl`, wait for the first answer, then write `rest` (half-open: the
 * server may have ended its side), and a byte every 50 ms after it until the server closes:
 * test/helpers/pipeline-client.mjs, in a process of its own (`tls` for an https server with
 * a self-signed certificate). Resolves with that answer, and when the connection closed.
 */
export async function sendAfterAnswer(
  baseUrl: string,
  head: Buffer,
  rest: Buffer,
  tls = false,
): Promise<{ first: ContractOutcome | null; closedAt: number }> {
  const { hostname: host, port } = new URL(baseUrl)
  const { stdout } = await run(process.execPath, [
    pipelineClient,
    JSON.stringify({
      port: Number(port),
      host,
      tls,
      head: head.toString('base64'),
      rest: rest.toString('base64'),
    }),
  ])
  const { received, closedAt } = JSON.parse(stdout) as { received: string; closedAt: number }
  return { first: parseResponse(Buffer.from(received, 'base64'), true), closedAt }
}

/** A Standard Schema that breaks the contract: it throws, with nothing. */
export const throwsNothing = {
  '~standard': {
    version: 1 as const,
    vendor: 'hand',
    validate: (): never => {
      throw undefined
    },
  },
}

/** POST a body to `/x` of a server bound to `throwsNothing`: a 500, and the handler never ran. */
export async function expectServerFault(
  baseUrl: string,
  ran: unknown[],
  close: () => void,
): Promise<void> {
  try {
    const res = await fetch(`${baseUrl}/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    })
    expect(res.status).toBe(500)
    expect(ran).toEqual([])
    expectPrototypesUntouched()
  } finally {
    close()
  }
}

/**
 * A Standard Schema whose output is a thenable (as a query builder is), answering at once or
 * through a promise: the output is handed on as it is, its `then` never called. `seen` is
 * where the handler puts the body it was given.
 */
export function thenableOutput(async: boolean) {
  const calls = { then: 0 }
  const output = {
    kind: 'query',
    then: () => {
      calls.then++
    },
  }
  const result = { value: output }
  const schema = {
    '~standard': {
      version: 1 as const,
      vendor: 'hand',
      validate: () => (async ? Promise.resolve(result) : result),
    },
  }
  const seen: unknown[] = []
  /** POST a body to `/x` of a server bound to `schema`: the handler got `output` itself. */
  const expectHandedOn = async (baseUrl: string, close: () => void) => {
    try {
      const res = await fetch(`${baseUrl}/x`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      })
      expect(res.status).toBe(200)
      expect(seen).toHaveLength(1)
      expect(seen[0]).toBe(output)
      expect(calls.then).toBe(0)
    } finally {
      close()
    }
  }
  return { schema, output, calls, seen, expectHandedOn }
}

/** The global instance behind the parser in `expectBodilessBehindParser`'s second server. */
export const parserFirstRoutes: SafeBodyOptions = {
  routes: {
    'POST /users': { schema: contractUserStrict, required: false },
    'POST /watched': { schema: contractUserStrict, required: false, mode: 'report' },
  },
}

/**
 * Two servers with the framework's own JSON body parser, each route echoing `{ body }`:
 * `behindGlobal` has it behind a global instance binding `POST /users`, `POST /required` and
 * `POST /global` (contractUser), and per-route instances behind it bind contractUserStrict
 * (`required: false` on `/users`; none on `/global`): the global instance takes a bodiless
 * request on its bindings, so the parser makes nothing of it. `alone` has the parser before
 * a global instance (parserFirstRoutes), with `/open` bound by none. The parser reads a
 * bodiless request's empty stream (setting `{}`): nothing is lost, so it goes on as bodiless,
 * and a binding in enforce mode does not hand on the parser's unchecked `{}` (report mode and
 * an unbound route leave it). A body it read first is lost: a 500.
 */
export async function expectBodilessBehindParser(behindGlobal: string, alone: string) {
  const post = (url: string, body: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const none = await post(`${behindGlobal}/users`, '')
  expect([none.status, await none.json()]).toEqual([200, { body: null }])
  // Bound by the global instance alone: the parser makes nothing of nothing (body-parser 1's
  // and @koa/bodyparser's `{}`), which no schema checked.
  const global = await post(`${behindGlobal}/global`, '')
  expect([global.status, await global.json()]).toEqual([200, { body: null }])
  const unframed = await untilClosed(
    Number(new URL(behindGlobal).port),
    'POST /global HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n',
  )
  expect(unframed).toMatch(/^HTTP\/1\.1 200 /)
  expect(unframed).toContain('{"body":null}')
  // An empty chunked body the global instance read: the parser is told not to read it again.
  const chunked = await untilClosed(
    Number(new URL(behindGlobal).port),
    'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
  )
  expect(chunked).toMatch(/^HTTP\/1\.1 200 /)
  expect(chunked).toContain('{"body":null}')
  const missing = await post(`${behindGlobal}/required`, '')
  expect(missing.status).toBe(400)
  expect(await missing.json()).toMatchObject({ type: expect.stringMatching(/entity\.missing$/) })
  // A body is still held to both: this one passes the global binding, not the per-route one.
  const strict = await post(`${behindGlobal}/users`, JSON.stringify({ name: 'ab', email: 'a@b.c' }))
  expect(strict.status).toBe(422)
  expect(await strict.json()).toMatchObject({
    type: expect.stringMatching(/entity\.validation\.failed$/),
  })
  const lost = await post(`${alone}/users`, JSON.stringify({ name: 'abc', email: 'a@b.c' }))
  expect(lost.status).toBe(500)
  const bodiless = await post(`${alone}/users`, '')
  expect([bodiless.status, await bodiless.json()]).toEqual([200, { body: null }])
  for (const path of ['/watched', '/open']) {
    const left = await post(`${alone}${path}`, '')
    expect([left.status, await left.json()], path).toEqual([200, { body: {} }])
  }
  expectPrototypesUntouched()
}
