import { createHash } from 'node:crypto'
import bodyParser from 'body-parser'
import express from 'express'
import type { ErrorRequestHandler, RequestHandler } from 'express'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import ours from '../../src/body-parser/index.js'
import { safeBody } from '../../src/index.js'
import { expectPrototypesUntouched, listen } from '../helpers/app.js'
import { send } from './harness.js'

// Size limits follow `limit`: a benign body (no hostile key, depth and keys per object within
// the fixed limits) that fits `limit` is accepted by body-parser, by safebody/body-parser and
// by safeBody alike, with the same req.body, whatever its string lengths or value count.

const limits = [
  ['100kb', 100 * 1024],
  ['1mb', 1024 * 1024],
  ['10mb', 10 * 1024 * 1024],
] as const

type Kind = 'json' | 'urlencoded' | 'text'
const contentTypes: Record<Kind, string> = {
  json: 'application/json',
  urlencoded: 'application/x-www-form-urlencoded',
  text: 'text/plain',
}

/** Answers with a digest of req.body, so that big bodies compare cheaply. */
const digest: RequestHandler = (req, res) => {
  const text = JSON.stringify(req.body) ?? 'undefined'
  res.json({ sha: createHash('sha256').update(text).digest('hex') })
}
const report: ErrorRequestHandler = (err, _req, res, _next) => {
  res.status(err.status ?? 500).json({ type: err.type })
}

/** A benign body of about `size` bytes: one long string, or a long array of small values. */
function body(kind: Kind, size: number, shape: 'string' | 'array', seed: number): string {
  const char = 'abcdefghijklmnopqrstuvwxyz'[seed % 26] as string
  if (kind === 'text') return char.repeat(size)
  if (kind === 'urlencoded') {
    if (shape === 'string') return `a=${char.repeat(size - 2)}`
    // Repeated keys become one array: many values, one key (qs is slow past a few thousand).
    return Array.from(
      { length: Math.min(5000, Math.floor(size / 4)) },
      (_, i) => `k=${i % 10}`,
    ).join('&')
  }
  if (shape === 'string') return JSON.stringify({ image: char.repeat(size - 12) })
  return JSON.stringify(Array.from({ length: Math.floor(size / 2) - 1 }, (_, i) => i % 10))
}

describe.each(limits)('benign bodies at limit %s', (label, bytes) => {
  const ports: Record<string, number> = {}
  const closers: Array<() => void> = []
  beforeAll(async () => {
    for (const kind of ['json', 'urlencoded', 'text'] as const) {
      // body-parser's urlencoded stops at 1000 parameters by default; the facade keeps that.
      const options = { limit: label, ...(kind === 'urlencoded' ? { parameterLimit: 1e7 } : {}) }
      const theirs = (bodyParser as unknown as Record<Kind, (o: object) => RequestHandler>)[kind]
      const mine = (ours as unknown as Record<Kind, (o: object) => RequestHandler>)[kind]
      const apps = {
        [`bp-${kind}`]: express().use(theirs(options)).post('/', digest).use(report),
        [`facade-${kind}`]: express().use(mine(options)).post('/', digest).use(report),
        [`safebody-${kind}`]: express()
          .use(safeBody({ routes: { 'POST /': { schema: true, formats: [kind] } }, limit: label }))
          .post('/', digest)
          .use(report),
      }
      for (const [name, app] of Object.entries(apps)) {
        const { server, port } = await listen(app)
        ports[name] = port
        closers.push(() => server.close())
      }
    }
  })
  afterAll(() => {
    for (const close of closers) close()
  })

  it('is accepted by all three with the same req.body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Kind>('json', 'urlencoded', 'text'),
        fc.constantFrom<'string' | 'array'>('string', 'array'),
        // Near the limit: between 90% and 100% of it.
        fc.integer({ min: Math.floor(bytes * 0.9), max: bytes }),
        fc.nat(),
        async (kind, shape, size, seed) => {
          const text = body(kind, size, shape, seed)
          if (Buffer.byteLength(text) > bytes) return
          const request = { headers: { 'Content-Type': contentTypes[kind] }, body: text }
          const [bp, facade, sb] = await Promise.all([
            send(ports[`bp-${kind}`] as number, request),
            send(ports[`facade-${kind}`] as number, request),
            send(ports[`safebody-${kind}`] as number, request),
          ])
          expect(bp.status).toBe(200)
          expect(facade).toEqual(bp)
          expect(sb).toEqual(bp)
        },
      ),
      { numRuns: bytes > 2 * 1024 * 1024 ? 3 : 6, seed: 2026 },
    )
    expectPrototypesUntouched()
  })
})

describe('limits body-parser takes', () => {
  it.each([Infinity, 2 ** 53])(
    'json({ limit: %s }) starts and reads a body, as body-parser does',
    async (limit) => {
      for (const parsers of [bodyParser, ours]) {
        const app = express().use(parsers.json({ limit })).post('/', digest).use(report)
        const { server, port } = await listen(app)
        try {
          const res = await send(port, {
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ image: 'A'.repeat(200_000) }),
          })
          expect(res.status).toBe(200)
        } finally {
          server.close()
        }
      }
    },
  )
})

describe('the cases from the issue', () => {
  it('json({ limit: "10mb" }) takes a 2 000 000-character string and 200 000 numbers', async () => {
    const app = express()
      .use(ours.json({ limit: '10mb' }))
      .post('/', digest)
      .use(report)
    const { server, port } = await listen(app)
    try {
      const image = await send(port, {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ image: 'A'.repeat(2_000_000) }),
      })
      expect(image.status).toBe(200)
      const numbers = await send(port, {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(Array.from({ length: 200_000 }, (_, i) => i)),
      })
      expect(numbers.status).toBe(200)
    } finally {
      server.close()
    }
  })
})
