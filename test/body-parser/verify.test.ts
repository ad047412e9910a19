import type { IncomingMessage } from 'node:http'
import { gzipSync } from 'node:zlib'
import createError from 'http-errors'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { json as jsonParser } from '../../src/body-parser/index.js'
import { frameworks } from '../helpers/app.js'
import { same } from './harness.js'

const json = { 'Content-Type': 'application/json' }

describe.each(frameworks)('verify, same as body-parser (%s)', (_name, express) => {
  it('is called with the raw bytes, after inflation, and the charset', async () => {
    const calls: Array<[string, string | null]> = []
    const verify = (_req: IncomingMessage, _res: unknown, buf: Buffer, encoding: string | null) => {
      calls.push([buf.toString('hex'), encoding])
    }
    const { status } = await same(
      express,
      'json',
      { verify },
      {
        headers: {
          'Content-Type': 'application/json; charset=utf-16le',
          'Content-Encoding': 'gzip',
        },
        body: gzipSync(Buffer.from('{"a":1}', 'utf16le')),
      },
    )
    expect(status).toBe(200)
    const bytes = Buffer.from('{"a":1}', 'utf16le').toString('hex')
    expect(calls).toEqual([
      [bytes, 'utf-16le'],
      [bytes, 'utf-16le'],
    ])
  })

  it('gets encoding null from raw', async () => {
    const seen: Array<string | null> = []
    await same(
      express,
      'raw',
      { verify: (_q: unknown, _s: unknown, _b: Buffer, e: string | null) => seen.push(e) },
      {
        headers: { 'Content-Type': 'application/octet-stream; charset=utf-8' },
        body: 'x',
      },
    )
    expect(seen).toEqual([null, null])
  })

  it('runs before decoding: a body that would not parse can still be refused by verify', async () => {
    const verify = () => {
      throw new Error('bad signature')
    }
    const { status, result } = await same(
      express,
      'json',
      { verify },
      { headers: json, body: '{oops' },
    )
    expect(status).toBe(403)
    expect(result).toMatchObject({ type: 'entity.verify.failed', message: 'bad signature' })
  })

  it("keeps a thrown error's own status and type", async () => {
    const verify = () => {
      throw createError(401, 'no signature', { type: 'signature.missing' })
    }
    const { status, result } = await same(
      express,
      'text',
      { verify },
      {
        headers: { 'Content-Type': 'text/plain' },
        body: 'hello',
      },
    )
    expect(status).toBe(401)
    expect(result).toMatchObject({ type: 'signature.missing', message: 'no signature' })
  })

  it('runs on an empty body too', async () => {
    let called = 0
    await same(
      express,
      'urlencoded',
      { verify: () => called++ },
      {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: '',
      },
    )
    expect(called).toBe(2)
  })

  it('is not called for a request passed over', async () => {
    let called = 0
    await same(
      express,
      'json',
      { verify: () => called++ },
      { headers: { 'Content-Type': 'text/plain' }, body: '{}' },
    )
    expect(called).toBe(0)
  })

  it('hands verify bytes it may keep, while other bodies in chunks are parsed', async () => {
    // The raw-body pattern of webhook handlers: verify keeps `buf` for a check made later.
    let arrived = () => {}
    const atGate = new Promise<void>((resolve) => (arrived = resolve))
    let open = () => {}
    const gate = new Promise<void>((resolve) => (open = resolve))
    const app = express()
    const keptBytes = new WeakMap<IncomingMessage, Buffer>()
    const verify = (req: IncomingMessage, _res: unknown, buf: Buffer) => {
      keptBytes.set(req, buf)
    }
    app.use(jsonParser({ verify, limit: '1mb' }))
    app.post('/kept', (req, res) => {
      arrived()
      void gate.then(() => {
        res.json({ same: keptBytes.get(req)?.toString() === JSON.stringify(req.body) })
      })
    })
    app.post('/other', (req, res) => res.json({ length: JSON.stringify(req.body).length }))
    const first = JSON.stringify({ pad: 'k'.repeat(300_000) })
    const second = JSON.stringify({ pad: 'o'.repeat(200_000) })
    const send = (path: string, body: string) =>
      request(app).post(path).set('content-type', 'application/json').send(body)
    const kept = Promise.resolve(send('/kept', first))
    await atGate
    expect((await send('/other', second)).body).toEqual({ length: second.length })
    open()
    expect((await kept).body).toEqual({ same: true })
  })
})
