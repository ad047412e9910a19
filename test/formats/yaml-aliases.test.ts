import { describe, expect, it } from 'vitest'
import { expectPrototypesUntouched, expectRefusal, frameworks } from '../helpers/app.js'
import { aliasBomb, formatApp, media, post } from './helpers.js'

type Node = { x: Array<number | { y: number }>; [key: string]: unknown }
type Tree = { a: Node; b: Node; c: Node[] }

// YAML aliases and merge keys reach the handler as independent copies (a tree, as from
// JSON), and the copies are counted against maxNodes as they are made.

describe.each(frameworks)('YAML aliases through %s', (_name, express) => {
  const route = { schema: {}, formats: ['yaml'] } as const
  const { app, seen } = formatApp(express, {
    routes: { 'POST /any': route, 'POST /small': { ...route, maxNodes: 100 } },
  })

  it('an alias is a copy of the anchored value, not the same object', async () => {
    seen.bodies.length = 0
    const res = await post(app, '/any', media.yaml, 'a: &a {x: [1, {y: 2}]}\nb: *a\nc: [*a, *a]\n')
    expect(res.status).toBe(200)
    const body = seen.bodies[0] as Tree
    const expected = { x: [1, { y: 2 }] }
    expect(body).toEqual({ a: expected, b: expected, c: [expected, expected] })
    const copies = [body.a, body.b, body.c[0], body.c[1]] as Node[]
    expect(new Set(copies).size).toBe(4)
    expect(new Set(copies.map((c) => c.x)).size).toBe(4)
    expect(new Set(copies.map((c) => c.x[1])).size).toBe(4)
    ;(body.b.x[1] as { y: number }).y = 3
    expect(body.a.x[1]).toEqual({ y: 2 })
    expectPrototypesUntouched()
  })

  it('merged values are copies too', async () => {
    seen.bodies.length = 0
    const res = await post(app, '/any', media.yaml, 'a: &a {x: {y: 1}}\nb: {<<: *a, z: 1}\n')
    expect(res.status).toBe(200)
    const body = seen.bodies[0] as { a: { x: object }; b: { x: object } }
    expect(body).toEqual({ a: { x: { y: 1 } }, b: { x: { y: 1 }, z: 1 } })
    expect(body.b.x).not.toBe(body.a.x)
  })

  it('copies count against maxNodes: 100 values once pass, twice do not', async () => {
    const list = `[${Array.from({ length: 40 }, (_, i) => i).join(', ')}]`
    seen.bodies.length = 0
    expect((await post(app, '/small', media.yaml, `a: &a ${list}\nb: *a\n`)).status).toBe(200)
    const res = await post(app, '/small', media.yaml, `a: &a ${list}\nb: *a\nc: *a\n`)
    expectRefusal(res, 400, 'entity.too.many.nodes')
  })

  describe('a large limit lets a small body expand only as far as its size, or the default', () => {
    // About 300 bytes that expand to 10^5 arrays of ten values: 1.1 million values.
    const bomb = `${aliasBomb(5, '0')}\n`
    const { app: large, seen: largeSeen } = formatApp(express, {
      routes: {
        'POST /follows': { ...route, limit: '10mb' },
        'POST /set': { ...route, limit: '10mb', maxNodes: 2_000_000 },
      },
    })

    it('refuses the expansion where maxNodes follows limit (10 million values here)', async () => {
      const res = await post(large, '/follows', media.yaml, bomb)
      expectRefusal(res, 400, 'entity.too.many.nodes', largeSeen)
      expect(res.body.detail).toMatch(/100000/)
      expectPrototypesUntouched()
    })

    it('keeps a maxNodes that was set', async () => {
      largeSeen.bodies.length = 0
      const res = await post(large, '/set', media.yaml, bomb)
      expect(res.status).toBe(200)
      expect((largeSeen.bodies[0] as { a5: unknown[] }).a5).toHaveLength(10)
    })
  })

  // A long scalar repeated by aliases: every node and string limit holds, yet the value
  // would take hundreds of megabytes to serialise. Repetition is counted as text instead.
  describe('strings that aliases and merges repeat count against maxStringLength', () => {
    const { app: small, seen: smallSeen } = formatApp(express, {
      routes: { 'POST /text': { ...route, maxStringLength: 1000 } },
    })
    const long = 'x'.repeat(400)

    it('passes repetition within maxStringLength beyond the body text', async () => {
      smallSeen.bodies.length = 0
      // 400 characters spelled once, repeated twice: 800 characters of repetition.
      const res = await post(small, '/text', media.yaml, `s: &a "${long}"\nl: [*a, *a]\n`)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(smallSeen.bodies).toEqual([{ s: long, l: [long, long] }])
    })

    it.each([
      ['a scalar alias', `s: &a "${long}"\nl: [*a, *a, *a]\n`],
      ['a merge', `a: &a {s: "${long}"}\nl: [{<<: *a}, {<<: *a}, {<<: *a}]\n`],
      ['an aliased key', `k: &k "${long}"\nl: [{*k : 1}, {*k : 2}, {*k : 3}]\n`],
      ['a container alias', `a: &a ["${long}"]\nl: [*a, *a, *a]\n`],
    ])('refuses %s repeating more (400, naming maxStringLength)', async (_what, text) => {
      smallSeen.bodies.length = 0
      const res = await post(small, '/text', media.yaml, text)
      expectRefusal(res, 400, 'entity.string.too.long', smallSeen)
      expect(res.body.detail).toContain('`maxStringLength` is 1000')
      expect(res.body.detail).not.toContain('xxx')
    })

    it('stops a small body that would expand to hundreds of megabytes, at default limits', async () => {
      seen.bodies.length = 0
      const text = `s: &a "${'x'.repeat(45_000)}"\nl: [${Array(13_000).fill('*a').join(',')}]\n`
      const res = await post(app, '/any', media.yaml, text)
      expectRefusal(res, 400, 'entity.string.too.long', seen)
    })
  })
})
