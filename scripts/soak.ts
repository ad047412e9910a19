// `npm run soak [-- --seconds N] [-- --concurrency C] [-- --seed S]`: a safebody server in
// a child process on 127.0.0.1 under a bounded, mixed load for a fixed time: benign bodies
// in every format safebody has, hostile bodies from the attack corpus, clients that abort
// mid-body, slow clients that trickle bytes, oversized bodies. It reports requests by
// outcome, 5xx (must be 0), benign bodies received intact (the handler records a hash of
// what it got; the client compares with what it sent), server RSS and heap at the start
// and the end after a GC, and open handles; it exits 1 if any check fails.
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { encode as encodeMsgpack } from '@msgpack/msgpack'
import express from 'express'
import { dump as dumpYaml } from 'js-yaml'
import { stringify as stringifyForm } from 'qs'
import protobuf from 'protobufjs'
import { problemDetails, safeBody } from '../src/index.js'
import { type AttackCase, corpus } from '../test/fixtures/attacks/index.js'
import { ATTACKS_MESSAGE, ATTACKS_PROTO } from '../test/fixtures/attacks/protobuf.js'
import { type Outcome, sendCase } from '../test/hardening/client.js'
import { seededRandom } from '../bench/lib/random.js'
import {
  availableFormats,
  bodyHash,
  corpusOptions,
  laterCode,
} from '../test/hardening/corpus-app.js'

/** RSS may grow this much from the warmed-up start to the end, after a GC. */
const RSS_BOUND_MB = 32
/** Heap in use may grow this much. */
const HEAP_BOUND_MB = 16
const DEADLINE_MS = 15_000

interface Usage {
  rssMb: number
  heapMb: number
  /** Memory outside the JS heap held by JS objects (Buffers, zlib). */
  externalMb: number
}
type ServerMessage =
  | { kind: 'ready'; port: number }
  | { kind: 'hashes'; hashes: Array<[string, string]> }
  | { kind: 'usage'; usage: Usage }
  | {
      kind: 'report'
      usage: Usage
      /** Answers the app decided on, by status (a client may hang up before reading one). */
      statuses: Record<string, number>
      fiveHundreds: number
      crashes: string[]
      resources: Record<string, number>
    }
type ClientMessage = { kind: 'drain' } | { kind: 'usage' } | { kind: 'report' }
type ServerProcess = ChildProcessByStdio<Writable, Readable, null>

// ---------------------------------------------------------------- the server (child process)

function server(): void {
  // Messages go to the client as `@soak {json}` lines on stdout; commands come on stdin.
  // (Not IPC: the tsx loader in this process interferes with a forked channel.)
  const send = (message: ServerMessage) =>
    process.stdout.write(`@soak ${JSON.stringify(message)}\n`)
  const hashes = new Map<string, string>()
  let fiveHundreds = 0
  const crashes: string[] = []
  process.on('uncaughtException', (err) => crashes.push(String(err)))
  // If the client goes away (stdin ends), so does the server: no orphan keeps the port.
  const commands = createInterface({ input: process.stdin })
  commands.on('close', () => process.exit(0))
  process.on('unhandledRejection', (err) => crashes.push(String(err)))

  const statuses: Record<string, number> = {}
  const app = express()
  app.use(safeBody(corpusOptions(availableFormats())))
  app.post('/:route/:format', (req, res) => {
    laterCode(req.body)
    const hash = bodyHash(req.body)
    const id = req.headers['x-soak-id']
    if (typeof id === 'string') hashes.set(id, hash)
    statuses['200'] = (statuses['200'] ?? 0) + 1
    res.json({ hash })
  })
  // Count each answer the app decides on, whether or not the client stays to read it.
  app.use(((err: { status?: number }, _req, _res, next) => {
    const status = String(err.status ?? 500)
    statuses[status] = (statuses[status] ?? 0) + 1
    next(err)
  }) as express.ErrorRequestHandler)
  app.use(problemDetails())
  // Whatever problemDetails does not answer would be a 500.
  app.use(((err, _req, res, _next) => {
    fiveHundreds++
    res.status(500).end(String(err))
  }) as express.ErrorRequestHandler)

  const listener = app.listen(0, '127.0.0.1', () => {
    const address = listener.address()
    if (address && typeof address === 'object') send({ kind: 'ready', port: address.port })
  })
  commands.on('line', (line) => {
    const message = JSON.parse(line) as ClientMessage
    if (message.kind === 'drain') {
      send({ kind: 'hashes', hashes: [...hashes] })
      hashes.clear()
    } else if (message.kind === 'usage') {
      send({ kind: 'usage', usage: usage() })
    } else {
      const resources: Record<string, number> = {}
      for (const name of process.getActiveResourcesInfo()) {
        resources[name] = (resources[name] ?? 0) + 1
      }
      send({ kind: 'report', usage: usage(), statuses, fiveHundreds, crashes, resources })
    }
  })
}

function usage(): Usage {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc) {
    gc()
    gc()
  }
  const { rss, heapUsed, external } = process.memoryUsage()
  return { rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20, externalMb: external / 2 ** 20 }
}

// ---------------------------------------------------------------- the client (this process)

async function client(): Promise<void> {
  const seconds = option('seconds', 60)
  const concurrency = option('concurrency', 16)
  const seed = option('seed', 9)
  // Seeded, so a soak's mix can be replayed.
  const random = seededRandom(seed)
  const formats = availableFormats()

  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--server'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      // zlib inflates on libuv's threads; glibc gives each thread its own malloc arena, and
      // their fragmentation grows RSS by tens of MB with no leak (heap and external stay
      // flat). Two arenas make RSS growth mean a leak again.
      env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' },
    },
  )
  const messages = createInterface({ input: child.stdout })
  messages.on('line', (line) => {
    if (line.startsWith('@soak ')) child.emit('soak', JSON.parse(line.slice(6)))
    else console.log(`server: ${line}`)
  })
  const port = (await next(child, 'ready')).port

  // The hostile mix: every corpus case for a format the server has.
  const hostile = corpus.flatMap((file) => file.cases).filter((c) => formats.includes(c.format))
  const benignFormats = formats.filter((f) => f in benignEncoders)

  const expected = new Map<string, string>()
  const formatOf = new Map<string, string>()
  const received = new Map<string, string>()
  const tally = new Map<string, number>()
  const statuses = new Map<string, number>()
  const surprises: string[] = []
  let requests = 0
  let fiveHundreds = 0
  // Refusals the server must have sent, by status: seen by the client, or lost to a reset.
  const answered = new Map<string, number>()
  let nextId = 0
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1)

  const drain = async () => {
    for (const [id, hash] of (await next(child, 'hashes', { kind: 'drain' })).hashes) {
      received.set(id, hash)
    }
  }

  async function one(kind: string, entry: AttackCase, benignId?: string): Promise<void> {
    let outcome: Outcome
    try {
      outcome = await sendCase(port, entry, DEADLINE_MS)
    } catch (err) {
      surprises.push(`${kind} ${entry.id}: ${String(err)}`)
      count(tally, `${kind}: no answer`)
      return
    }
    requests++
    count(statuses, outcome.status === null ? 'none (client hung up)' : String(outcome.status))
    if (outcome.status !== null && outcome.status >= 500) fiveHundreds++
    const hungUp = entry.delivery?.kind === 'abort' || entry.delivery?.kind === 'raw'
    const status = String(entry.expectStatus)
    // Answers the app sends (Node's HTTP parser answers some corpus lies itself).
    const fromApp = entry.delivery?.kind !== 'raw' || entry.expectType !== undefined
    if (outcome.status === entry.expectStatus || (outcome.status === null && hungUp)) {
      count(tally, `${kind}: as expected`)
      if (outcome.status !== null && fromApp) count(answered, status)
    } else if (outcome.status === null) {
      // The server answers a refusal and cuts the connection a second later; a client that
      // is still sending and lags that long sees the reset first. The server's own count of
      // answers by status (checked below) says whether it answered.
      count(tally, `${kind}: answered, reset before the client read it`)
      if (fromApp) count(answered, status)
    } else {
      count(tally, `${kind}: unexpected ${outcome.status}`)
      if (surprises.length < 20) {
        surprises.push(`${kind} ${entry.id}: ${outcome.status}, expected ${entry.expectStatus}`)
      }
    }
    if (benignId !== undefined && outcome.status !== 200) expected.delete(benignId)
  }

  function benign(slow: boolean): [AttackCase, string] {
    const format = pick(random, benignFormats)
    const { value, bytes } = (benignEncoders[format] as BenignEncoder)(
      randomValue(random, 0),
      random,
    )
    const id = `b${nextId++}`
    expected.set(id, bodyHash(value))
    formatOf.set(id, format)
    const gzip = random() < 0.2
    const chunked = !gzip && random() < 0.2
    const entry: AttackCase = {
      id,
      format,
      contentType: contentTypes[format] ?? 'application/json',
      encoding: gzip ? 'gzip' : 'identity',
      headers: { 'x-soak-id': id, ...(chunked ? { 'transfer-encoding': 'chunked' } : {}) },
      body: gzip ? gzipSync(bytes) : bytes,
      description: 'benign',
      expectStatus: 200,
      ...(slow ? { delivery: { kind: 'trickle', size: 64, intervalMs: 40 } } : {}),
    }
    return [entry, id]
  }

  async function worker(deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      const roll = random()
      if (roll < 0.5) {
        const [entry, id] = benign(false)
        await one('benign', entry, id)
      } else if (roll < 0.55) {
        const [entry, id] = benign(true)
        await one('benign, trickled in time', entry, id)
      } else if (roll < 0.75) {
        await one('hostile (corpus)', pick(random, hostile))
      } else if (roll < 0.85) {
        const bytes = Buffer.from(JSON.stringify(randomValue(random, 0)))
        await one('client aborts mid-body', {
          ...plain('abort', bytes, 400),
          delivery: { kind: 'abort', after: Math.floor(bytes.length / 2) },
        })
      } else if (roll < 0.9) {
        await one('slow client, past the timeout', {
          ...plain('slow', Buffer.from(`{"a":"${'x'.repeat(400)}"}`), 408),
          route: 'slow',
          delivery: { kind: 'trickle', size: 16, intervalMs: 40 },
        })
      } else {
        const size = random() < 0.5 ? 300_000 : 2_000_000
        const chunked = random() < 0.5
        await one('oversized', {
          ...plain('oversized', Buffer.from(`"${'o'.repeat(size)}"`), 413),
          ...(chunked ? { headers: { 'transfer-encoding': 'chunked' } } : {}),
        })
      }
    }
  }

  // Warm up at full concurrency (buffers and pools reach their working size), then take
  // the starting figures.
  const warmup = Date.now() + Math.min(5, seconds / 6) * 1000
  await Promise.all(Array.from({ length: concurrency }, () => worker(warmup)))
  requests = 0
  fiveHundreds = 0
  answered.clear()
  tally.clear()
  statuses.clear()
  await drain()
  const start = (await next(child, 'usage', { kind: 'usage' })).usage
  const warmupStatuses = (await next(child, 'report', { kind: 'report' })).statuses
  const began = Date.now()
  const deadline = began + seconds * 1000
  const drainer = setInterval(() => void drain(), 2000)
  await Promise.all(Array.from({ length: concurrency }, () => worker(deadline)))
  clearInterval(drainer)
  const elapsed = (Date.now() - began) / 1000
  // Refused connections linger up to a second before the server cuts them.
  await new Promise((r) => setTimeout(r, 1500))
  await drain()
  const report = await next(child, 'report', { kind: 'report' })
  child.stdin.end()
  await new Promise((r) => child.once('close', r))
  await new Promise((r) => setTimeout(r, 100))

  let lost = 0
  const lostBy = new Map<string, number>()
  const benignBy = new Map<string, number>()
  for (const id of expected.keys()) count(benignBy, formatOf.get(id) ?? '?')
  for (const [id, hash] of expected) {
    if (received.get(id) === hash) continue
    lost++
    count(lostBy, `${formatOf.get(id)}${received.has(id) ? ' (altered)' : ' (not received)'}`)
  }
  const rssGrowth = report.usage.rssMb - start.rssMb
  const heapGrowth = report.usage.heapMb - start.heapMb
  const unanswered = [...answered].filter(
    ([status, n]) =>
      status !== '200' && (report.statuses[status] ?? 0) - (warmupStatuses[status] ?? 0) < n,
  )
  const serverSockets = report.resources.TCPSocketWrap ?? 0
  const serverTimers = report.resources.Timeout ?? 0
  const ownResources = process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap')
  const unexpected = [...tally].filter(([k]) => k.includes('unexpected') || k.includes('no answer'))

  const checks: Array<[string, boolean]> = [
    ['no 5xx', fiveHundreds === 0 && report.fiveHundreds === 0],
    ['no crash in the server', report.crashes.length === 0],
    ['every answer as expected', unexpected.length === 0],
    ['the server sent every refusal the clients expected', unanswered.length === 0],
    ['every benign body intact', lost === 0 && expected.size > 0],
    [`RSS growth under ${RSS_BOUND_MB} MB`, rssGrowth < RSS_BOUND_MB],
    [`heap growth under ${HEAP_BOUND_MB} MB`, heapGrowth < HEAP_BOUND_MB],
    ['no open sockets or timers left in the server', serverSockets === 0 && serverTimers === 0],
    ['no handles left in the client', ownResources.length === 0],
  ]
  const mb = (n: number) => `${n.toFixed(1)} MB`
  const lines = [
    `soak: ${elapsed.toFixed(0)} s, ${concurrency} clients, seed ${seed}, formats ${formats.join(', ')}`,
    `requests: ${requests} (${(requests / elapsed).toFixed(0)}/s)`,
    ...[...tally].sort().map(([k, n]) => `  ${k}: ${n}`),
    `by status: ${[...statuses]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ')}`,
    `5xx: ${fiveHundreds} seen by clients, ${report.fiveHundreds} in the server`,
    `benign bodies: ${expected.size} accepted, ${lost} lost or altered (bytes lost: ${lost === 0 ? 0 : 'some'})`,
    ...[...lostBy].map(([what, n]) => `  lost or altered, ${what}: ${n}`),
    `benign bodies by format (warm-up included): ${[...benignBy].map(([f, n]) => `${f} ${n}`).join(', ')}`,
    `server RSS: ${mb(start.rssMb)} at start, ${mb(report.usage.rssMb)} at end after GC (${rssGrowth >= 0 ? '+' : ''}${mb(rssGrowth)})`,
    `server heap used: ${mb(start.heapMb)} at start, ${mb(report.usage.heapMb)} at end (${heapGrowth >= 0 ? '+' : ''}${mb(heapGrowth)}); external ${mb(start.externalMb)} -> ${mb(report.usage.externalMb)}`,
    `server answers by status: ${JSON.stringify(report.statuses)} (warm-up included)`,
    ...unanswered.map(([status, n]) => `  expected ${n} answers of ${status} from the server`),
    `server resources at the end: ${JSON.stringify(report.resources)}`,
    `client resources at the end: ${JSON.stringify(ownResources)}`,
    ...surprises.map((s) => `  surprise: ${s}`),
    ...report.crashes.map((c) => `  crash: ${c}`),
    ...checks.map(([name, ok]) => `${ok ? 'ok  ' : 'FAIL'} ${name}`),
  ]
  console.log(lines.join('\n'))
  process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1
}

function plain(id: string, body: Buffer, expectStatus: number): AttackCase {
  return {
    id,
    format: 'json',
    contentType: 'application/json',
    encoding: 'identity',
    body,
    description: id,
    expectStatus,
  }
}

/** Wait for the child's next message of `kind`, sending `request` first if given. */
function next<K extends ServerMessage['kind']>(
  child: ServerProcess,
  kind: K,
  request?: ClientMessage,
): Promise<Extract<ServerMessage, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ServerMessage) => {
      if (message.kind !== kind) return
      child.off('soak', onMessage)
      child.off('exit', onExit)
      resolve(message as Extract<ServerMessage, { kind: K }>)
    }
    const onExit = (code: number | null) => reject(new Error(`the server exited (${code})`))
    child.on('soak', onMessage)
    child.once('exit', onExit)
    if (request) child.stdin.write(`${JSON.stringify(request)}\n`)
  })
}

// ---------------------------------------------------------------- benign bodies

type BenignEncoder = (value: Json, random: () => number) => { value: unknown; bytes: Buffer }
type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const contentTypes: Record<string, string> = {
  json: 'application/json',
  msgpack: 'application/msgpack',
  yaml: 'application/yaml',
  urlencoded: 'application/x-www-form-urlencoded',
  text: 'text/plain',
  raw: 'application/octet-stream',
  protobuf: 'application/x-protobuf',
}

/** Per format: the bytes of a benign body and the value the handler must receive. */
const benignEncoders: Record<string, BenignEncoder> = {
  json: (value) => ({ value, bytes: Buffer.from(JSON.stringify(value)) }),
  msgpack: (value) => ({ value, bytes: Buffer.from(encodeMsgpack(value)) }),
  yaml: (value) => ({ value, bytes: Buffer.from(dumpYaml(value)) }),
  urlencoded: (value) => {
    const form = flatStrings(value)
    // An empty form is zero bytes, which is no body at all: req.body stays undefined.
    const empty = Object.keys(form).length === 0
    return { value: empty ? undefined : form, bytes: Buffer.from(stringifyForm(form)) }
  },
  text: (value) => {
    const text = JSON.stringify(value)
    return { value: text, bytes: Buffer.from(text) }
  },
  // Binary bytes (not UTF-8 as a rule): the handler gets their base64.
  raw: (value) => {
    const bytes = Buffer.from(encodeMsgpack(value))
    return { value: bytes.toString('base64'), bytes }
  },
  protobuf: (value, random) => benignItem(value, random),
}

let itemType: protobuf.Type | undefined

/**
 * A corpus Item (attacks.proto) built from a random value, and what the proto3 JSON mapping
 * makes of it (docs/FORMATS.md): fields in declaration order, defaults absent, bytes as
 * base64, int64 as a number (these stay within 2^53), map values as strings.
 */
function benignItem(value: Json, random: () => number): { value: unknown; bytes: Buffer } {
  itemType ??= protobuf
    .parse(readFileSync(ATTACKS_PROTO, 'utf8'), { keepCase: true })
    .root.lookupType(ATTACKS_MESSAGE)
  const name = JSON.stringify(value)
  const labels = flatStrings(value)
  const children = Array.isArray(value)
    ? value.slice(0, 3).map((v) => ({ name: JSON.stringify(v) }))
    : []
  const big = Math.floor(random() * 2 ** 52) - 2 ** 51
  const ratio = random() < 0.2 ? 0 : (random() - 0.5) * 1e6
  const blob = Buffer.from(encodeMsgpack(value)).subarray(0, Math.floor(random() * 40))
  const bytes = Buffer.from(
    itemType.encode(itemType.fromObject({ name, labels, children, big, ratio, blob })).finish(),
  )
  const expected: Record<string, unknown> = { name }
  if (Object.keys(labels).length > 0) expected.labels = labels
  if (children.length > 0) expected.children = children
  if (big !== 0) expected.big = big
  if (ratio !== 0) expected.ratio = ratio
  if (blob.length > 0) expected.blob = blob.toString('base64')
  return { value: expected, bytes }
}

function flatStrings(value: Json): Record<string, string> {
  const form: Record<string, string> = {}
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) form[`f${k}`] = JSON.stringify(v)
  } else form.v = JSON.stringify(value)
  return form
}

const words = ['alpha', 'béta', 'γάμμα', '日本語', '\u{1f600}', 'x', '', 'line\nbreak', 'quote"']

function randomValue(random: () => number, depth: number): Json {
  const roll = random()
  if (depth >= 3 || roll < 0.4) {
    const scalar = random()
    if (scalar < 0.2) return Math.floor(random() * 2 ** 40) - 2 ** 39
    if (scalar < 0.35) return random() * 1000
    if (scalar < 0.45) return random() < 0.5
    if (scalar < 0.5) return null
    return pick(random, words).repeat(1 + Math.floor(random() * 20))
  }
  const size = Math.floor(random() * 8)
  if (roll < 0.65) return Array.from({ length: size }, () => randomValue(random, depth + 1))
  const object: Record<string, Json> = {}
  for (let i = 0; i < size; i++)
    object[`${pick(random, words)}${i}`] = randomValue(random, depth + 1)
  return object
}

// ---------------------------------------------------------------- small helpers

function option(name: string, fallback: number): number {
  const args = process.argv.slice(2)
  const at = args.indexOf(`--${name}`)
  const value = at === -1 ? fallback : Number(args[at + 1])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T
}

// Last, so that every declaration above is initialised before either side runs.
if (process.argv.includes('--server')) server()
else await client()
