import fc from 'fast-check'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { anything, person } from '../fixtures/schemas.js'
import { buildApp, expectPrototypesUntouched, frameworks, sendBytes } from '../helpers/app.js'

const hostileKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'isAdmin',
  '\\u005f_proto__',
)
const key = fc.oneof(hostileKey, fc.string({ maxLength: 8 }))
// JSON text built by hand so that hostile keys (even escaped ones) reach the wire as keys.
const jsonText = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('null', 'true', 'false', '0', '-0', '1e400', '9007199254740993', '"x"'),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
    fc.string().map((s) => JSON.stringify(s)),
    fc.array(tie('node'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(key, tie('node')), { maxLength: 4 })
      .map(
        (pairs) =>
          `{${pairs.map(([k, v]) => `"${k.startsWith('\\u') ? k : JSON.stringify(k).slice(1, -1)}":${v}`).join(',')}}`,
      ),
  ),
})).node

describe.each(frameworks)('whatever a client sends, through %s', (_name, express) => {
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        schemas: { anything, person },
        routes: { 'POST /any': { schema: 'anything', maxDepth: 6 }, 'POST /person': 'person' },
      }),
    )
    app.post('/any', echo)
    app.post('/person', echo)
  })

  function acceptable(status: number): boolean {
    return (status >= 200 && status < 300) || (status >= 400 && status < 500)
  }

  it('answers random bytes with a 2xx or a 4xx, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('/any', '/person'),
        async (bytes, path) => {
          const res = await sendBytes(
            request(app).post(path).set('Content-Type', 'application/json'),
            Buffer.from(bytes),
          )
          expect(acceptable(res.status)).toBe(true)
        },
      ),
      { seed: 7, numRuns: 150 },
    )
    expectPrototypesUntouched()
  })

  it('answers JSON with hostile keys with a 2xx or a 4xx, and never hands over a prototype key', async () => {
    await fc.assert(
      fc.asyncProperty(jsonText, async (text) => {
        seen.bodies.length = 0
        const res = await sendBytes(
          request(app).post('/any').set('Content-Type', 'application/json'),
          text,
        )
        expect(acceptable(res.status)).toBe(true)
        if (res.status === 200) {
          const json = JSON.stringify(seen.bodies[0])
          expect(json).not.toContain('"__proto__":')
        }
        expectPrototypesUntouched()
      }),
      { seed: 11, numRuns: 200 },
    )
  })
})
