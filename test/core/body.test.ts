import { createHmac } from 'node:crypto'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type BodyError } from '../../src/errors.js'
import { retakeBody, takeBody, type TakenBody } from '../../src/core/body.js'
import { type Format, formats } from '../../src/decoders/formats.js'
import { guardValue } from '../../src/core/guard.js'
import { expectPrototypesUntouched } from '../helpers/app.js'
import { formatTable } from '../../src/core/negotiate.js'
import { type RouteBinding, routePolicy } from '../../src/core/options.js'
import { compileRoute, noBody } from '../../src/core/route.js'
import { createRegistry } from '../../src/core/registry.js'
import { type Fallback, unread } from '../../src/core/report.js'
import type { ViolationLog } from '../../src/core/violations.js'
import type { BodySource } from '../../src/core/read.js'
import type { BodyRequest } from '../../src/core/request.js'

// A second format, so that "known to safebody but not allowed on this route" can be tested
// whatever formats the package ships: lines of `key=value`.
const lines = {
  name: 'json', // any FormatName: the fallback table is what is under test
  mediaTypes: ['text/x-lines'],
  textual: true,
  decode(bytes, context) {
    const value = Object.fromEntries(
      bytes
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('=', 2)),
    )
    guardValue(value, context.limits)
    return value
  },
} satisfies Format

const schema = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 3 } },
  required: ['name'],
}

function setup(binding: Omit<RouteBinding, 'schema'>) {
  const registry = createRegistry({ schema })
  const policy = routePolicy({}, binding, 'test')
  const route = compileRoute('POST /x', 'schema', policy, registry)
  const global = routePolicy({ mode: binding.mode }, {}, 'global')
  const fallback: Fallback = {
    policy: global,
    context: { limits: global.limits },
    table: formatTable([formats.json, lines]),
  }
  const reported: BodyError[] = []
  const log: ViolationLog = {
    record: (err, action) => {
      if (action === 'reported') reported.push(err)
    },
    stats: () => ({ refused: 0, reported: 0, counters: [] }),
  }
  /** Take `body` (sent with `headers`) down the core path; resolves what `done` was given. */
  const take = (headers: Record<string, string>, body = '') =>
    new Promise<{ err: unknown; value: unknown }>((resolve) => {
      takeBody(
        { log, fallback, name: null },
        route,
        { method: 'POST', path: '/x', headers },
        Buffer.from(body),
        (err, value) => resolve({ err, value }),
      )
    })
  return { reported, take }
}

const lines7 = { 'content-type': 'text/x-lines', 'content-length': '7' }

describe('takeBody: the core path, with report mode consulted where it refuses', () => {
  it('refuses a format the route does not allow in enforce mode, before reading', async () => {
    const { take } = setup({})
    const { err } = await take(lines7, 'name=ab')
    expect(err).toEqual(expect.objectContaining({ type: 'content.type.unsupported', status: 415 }))
  })

  it('decodes it with the route limits in report mode, and validates it', async () => {
    const { take, reported } = setup({ mode: 'report' })
    const { err, value } = await take(lines7, 'name=a\n')
    expect(err).toBeNull()
    expect(value).toEqual({ name: 'a' })
    expect(reported.map((e) => e.type)).toEqual([
      'content.type.unsupported',
      'entity.validation.failed',
    ])
  })

  it('still guards what it decodes that way', async () => {
    const { take } = setup({ mode: 'report', maxKeys: 1 })
    const many = await take({ ...lines7, 'content-length': '8' }, 'a=1\nb=2\n')
    expect(many.err).toEqual(expect.objectContaining({ type: 'entity.too.many.keys' }))
    const proto = await take({ ...lines7, 'content-length': '12' }, '__proto__=1\n')
    expect(proto.err).toEqual(expect.objectContaining({ type: 'entity.forbidden.key' }))
    expect(Object.prototype).not.toHaveProperty('1')
  })

  it('leaves a type no format knows unread in report mode', async () => {
    const { take, reported } = setup({ mode: 'report' })
    const { err, value } = await take({ 'content-type': 'text/csv', 'content-length': '3' }, 'a,b')
    expect(err).toBeNull()
    expect(value).toBe(unread)
    expect(reported.map((e) => e.type)).toEqual(['content.type.unsupported'])
  })

  it('refuses that body on a route that checks signatures: unread, it cannot be verified', async () => {
    const { take, reported } = setup({
      mode: 'report',
      integrity: { preset: 'github', secret: 's' },
    })
    const signed = {
      'content-type': 'text/csv',
      'content-length': '3',
      'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
    }
    const { err } = await take(signed, 'a,b')
    expect(err).toEqual(expect.objectContaining({ type: 'content.type.unsupported' }))
    expect(reported).toEqual([])
  })

  it('hands on no body for a bodiless request on a required route in report mode', async () => {
    const { take, reported } = setup({ mode: 'report', required: true })
    const { err, value } = await take({})
    expect(err).toBeNull()
    expect(value).toBe(noBody)
    expect(reported.map((e) => e.type)).toEqual(['entity.missing'])
  })

  it('names the setting and the route in a refusal decided by a limit', async () => {
    const registry = createRegistry({ schema })
    const policy = routePolicy({}, { maxDepth: 2 }, 'test', 'POST /x')
    const route = compileRoute('POST /x', 'schema', policy, registry)
    const fallback: Fallback = {
      policy,
      context: { limits: policy.limits },
      table: formatTable([]),
    }
    const log: ViolationLog = {
      record: () => undefined,
      stats: () => ({ refused: 0, reported: 0, counters: [] }),
    }
    const body = '{"a":{"b":{}}}'
    const err = await new Promise((resolve) =>
      takeBody(
        { log, fallback, name: null },
        route,
        {
          method: 'POST',
          path: '/x',
          headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
        },
        Buffer.from(body),
        resolve,
      ),
    )
    expect(err).toEqual(
      expect.objectContaining({
        type: 'entity.too.deep',
        detail: 'The body is nested more than 2 levels deep (`maxDepth` is 2 on POST /x).',
      }),
    )
  })
})

const silentLog: ViolationLog = {
  record: () => undefined,
  stats: () => ({ refused: 0, reported: 0, counters: [] }),
}

/** An instance with one binding on POST /x, which is also its fallback; nothing logged. */
function scopeFor(binding: Omit<RouteBinding, 'schema'>) {
  const policy = routePolicy({}, binding, 'test', 'POST /x')
  const route = compileRoute('POST /x', 'schema', policy, createRegistry({ schema }))
  const fallback: Fallback = {
    policy,
    context: { limits: policy.limits },
    table: formatTable([]),
  }
  return { scope: { log: silentLog, fallback, name: null }, route }
}

type Outcome = { err: unknown; value: unknown; taken?: TakenBody }

/** `takeBody` on an instance with `binding` (`scopeFor`): what its callback was given. */
function taking(
  binding: Omit<RouteBinding, 'schema'>,
  request: BodyRequest,
  source: BodySource,
): Promise<Outcome> {
  const { scope, route } = scopeFor(binding)
  return new Promise((resolve) =>
    takeBody(scope, route, request, source, (err, value, taken) => resolve({ err, value, taken })),
  )
}

/** `retakeBody` the same way: a later instance with `binding` holds a body taken before. */
function retaking(
  binding: Omit<RouteBinding, 'schema'>,
  request: BodyRequest,
  value: unknown,
  taken: TakenBody,
): Promise<Outcome> {
  const { scope, route } = scopeFor(binding)
  return new Promise((resolve) =>
    retakeBody(scope, route, request, value, taken, (err, handed) =>
      resolve({ err, value: handed }),
    ),
  )
}

describe('takeBody: a body that came in chunks', () => {
  const request = (length: number) => ({
    method: 'POST',
    path: '/x',
    headers: { 'content-type': 'application/json', 'content-length': String(length) },
  })
  const inThree = (body: string) => {
    const bytes = Buffer.from(body)
    const third = Math.ceil(bytes.length / 3)
    return [bytes.subarray(0, third), bytes.subarray(third, 2 * third), bytes.subarray(2 * third)]
  }
  const take = (binding: Omit<RouteBinding, 'schema'>, body: string | Buffer[]) => {
    const chunks = typeof body === 'string' ? inThree(body) : body
    const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0)
    return taking(binding, request(length), Readable.from(chunks))
  }

  it('decodes a body however it is cut, and hands on its own bytes', async () => {
    // Cuts of a few bytes take the path that joins at once; cuts of kilobytes, the buffer
    // that the next body, cut another way, reuses before these bytes are asked for.
    const records = fc.array(
      fc.record({ id: fc.integer(), text: fc.string({ unit: 'grapheme', maxLength: 64 }) }),
      { minLength: 1, maxLength: 300 },
    )
    const cuts = fc.oneof(
      fc.array(fc.integer({ min: 1, max: 256 }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.integer({ min: 4096, max: 16_384 }), { minLength: 1, maxLength: 6 }),
    )
    const cut = (bytes: Buffer, sizes: number[]) => {
      const chunks: Buffer[] = []
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const size = sizes[i % sizes.length] as number
        chunks.push(bytes.subarray(at, at + size))
        at += size
      }
      return chunks
    }
    await fc.assert(
      fc.asyncProperty(records, cuts, records, cuts, async (mine, myCuts, other, otherCuts) => {
        const pad = 'p'.repeat(10_000)
        const body = Buffer.from(JSON.stringify({ name: 'mine', pad, records: mine }))
        const next = Buffer.from(JSON.stringify({ name: 'other', pad, records: other }))
        const first = await take({}, cut(body, myCuts))
        const second = await take({}, cut(next, otherCuts))
        expect(first.value).toEqual(JSON.parse(body.toString()))
        expect(second.value).toEqual(JSON.parse(next.toString()))
        expect(first.taken?.bytes?.equals(body)).toBe(true)
      }),
      { numRuns: 60 },
    )
  })

  it('keeps its own bytes for a later instance, after another body was decoded', async () => {
    // Decoded from a buffer the next chunked body reuses (this one is shorter, so it fits in
    // it): the bytes handed on must be the chunks.
    const deep = JSON.stringify({ name: 'deep', a: { b: { c: {} } }, pad: 'd'.repeat(30_000) })
    const flat = JSON.stringify({ name: 'flat', pad: 'f'.repeat(20_000) })
    const first = await take({}, deep)
    expect(first.err).toBeNull()
    expect(first.value).toEqual(JSON.parse(deep))
    const second = await take({}, flat)
    expect(second.value).toEqual(JSON.parse(flat))
    const taken = first.taken as TakenBody
    expect(taken.bytes?.toString()).toBe(deep)
    // A stricter instance behind decodes those bytes again, and refuses them.
    const { err } = await retaking({ maxDepth: 3 }, request(deep.length), first.value, taken)
    expect(err).toEqual(expect.objectContaining({ status: 400, type: 'entity.too.deep' }))
    expect(Object.prototype).not.toHaveProperty('name')
  })
})

describe('takeBody: a compressed body of no type and no length', () => {
  const request = {
    method: 'POST',
    path: '/x',
    headers: { 'transfer-encoding': 'chunked', 'content-encoding': 'gzip' },
  }
  const take = (wire: Buffer) => taking({}, request, Readable.from([wire]))
  // A gzip stream of nothing: 20 bytes on the wire, none inflated.
  const nothing = gzipSync(Buffer.alloc(0))

  it('is no body when it inflates to nothing, as an empty one is', async () => {
    const { err, value, taken } = await take(nothing)
    expect(err).toBeNull()
    expect(value).toBe(noBody)
    expect(taken?.wireLength).toBe(nothing.length)
    expect(taken?.bytes?.length).toBe(0)
  })

  it('is refused as its missing type says (415) once it inflates to a byte', async () => {
    const { err } = await take(gzipSync(Buffer.from('{"name":"Ada"}')))
    expect(err).toEqual(expect.objectContaining({ status: 415, type: 'content.type.unsupported' }))
    expectPrototypesUntouched()
  })

  it('holds a later instance to its own read rules on the bytes on the wire', async () => {
    const { taken } = await take(nothing)
    const retake = (binding: Omit<RouteBinding, 'schema'>) =>
      retaking(binding, request, noBody, taken as TakenBody)
    expect(await retake({})).toEqual({ err: null, value: noBody })
    const notInflated = await retake({ inflate: false })
    expect(notInflated.err).toEqual(
      expect.objectContaining({ status: 415, type: 'encoding.unsupported' }),
    )
    const small = await retake({ limit: nothing.length - 1 })
    expect(small.err).toEqual(expect.objectContaining({ status: 413, type: 'entity.too.large' }))
    expectPrototypesUntouched()
  })

  it('holds no bodiless request to them: nothing was read, whatever Content-Encoding says', async () => {
    // Taken for its signature alone, as `start` takes a signed request with no body.
    const secret = 's'
    const headers = {
      'content-length': '0',
      'content-encoding': 'gzip',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update('').digest('hex')}`,
    }
    const bodiless = { method: 'POST', path: '/x', headers }
    const signing = { integrity: { preset: 'github', secret } } as const
    const first = await taking(signing, bodiless, Buffer.alloc(0))
    expect(first).toEqual(expect.objectContaining({ err: null, value: noBody }))
    expect(first.taken?.streamRead).toBe(false)
    const second = await retaking({ inflate: false }, bodiless, noBody, first.taken as TakenBody)
    expect(second).toEqual({ err: null, value: noBody })
  })
})
