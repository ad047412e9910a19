import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { discardBody } from '../../src/core/read.js'
import { expectPrototypesUntouched } from '../helpers/app.js'

const policy = { limit: 1000, timeout: 5000, inflate: true }

/** The read's outcome: the bytes handed on (always none) and the wire count, or the refusal. */
function discard(chunks: Buffer[], headers: Record<string, string>) {
  return new Promise<{ bytes: number; wire: number } | { status: number; type: string }>(
    (resolve) => {
      discardBody(Readable.from(chunks), headers, policy, {
        bodyRead: (bytes, wire) => resolve({ bytes: bytes.length, wire }),
        readFailed: (err) => resolve(err as { status: number; type: string }),
      })
    },
  )
}

describe('discardBody', () => {
  it('counts the bytes on the wire and hands none on', async () => {
    const chunks = [Buffer.alloc(400, 1), Buffer.alloc(400, 2)]
    expect(await discard(chunks, { 'content-length': '800' })).toEqual({ bytes: 0, wire: 800 })
  })

  it('inflates nothing: a compressed bomb within the limit on the wire is dropped, not refused', async () => {
    const bomb = gzipSync(Buffer.alloc(500_000))
    expect(bomb.length).toBeLessThan(policy.limit)
    const headers = { 'content-encoding': 'gzip', 'content-length': String(bomb.length) }
    expect(await discard([bomb], headers)).toEqual({ bytes: 0, wire: bomb.length })
    const unknown = { 'content-encoding': 'x-unknown', 'content-length': '3' }
    expect(await discard([Buffer.from('abc')], unknown)).toEqual({ bytes: 0, wire: 3 })
  })

  it('refuses a body over the limit, declared or counted, and a length that does not match', async () => {
    expect(await discard([], { 'content-length': '5000' })).toMatchObject({
      status: 413,
      type: 'entity.too.large',
    })
    const over = [Buffer.alloc(600), Buffer.alloc(600)]
    expect(await discard(over, { 'transfer-encoding': 'chunked' })).toMatchObject({
      status: 413,
      type: 'entity.too.large',
    })
    expect(await discard([Buffer.alloc(10)], { 'content-length': '20' })).toMatchObject({
      status: 400,
      type: 'request.size.invalid',
    })
    expectPrototypesUntouched()
  })
})
