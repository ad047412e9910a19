import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Seen } from '../fixtures/shape/child.js'

// safebody readies an Express request for the properties added to it (src/core/shape.ts):
// on V8 before 13 it becomes a dictionary; on V8 13 and later, and on a plain node:http
// request, it is left as it is. The child asks V8 itself (--allow-natives-syntax) and reports
// every own property of the request that changed, besides those Express and the stream set.
const child = fileURLToPath(new URL('../fixtures/shape/child.ts', import.meta.url))

describe('the request safebody adds a body to', () => {
  const { v8, results } = JSON.parse(
    execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', child], {
      encoding: 'utf8',
    }),
  ) as { v8: string; results: Seen[] }
  const sharedTransitions = Number.parseInt(v8, 10) >= 13

  it('was measured on every server and middleware', () => {
    expect(results.map((r) => `${r.server} ${r.middleware} ${r.status}`)).toEqual([
      'express 5 safeBody() 200',
      'express 5 json() 200',
      'express 5 none 200',
      'express 4 safeBody() 200',
      'express 4 json() 200',
      'express 4 none 200',
      'node:http json() 200',
    ])
  })

  it('keeps every property it had, statusMessage included, as it was', () => {
    for (const r of results) {
      expect(r.changed, `${r.server} ${r.middleware}`).toEqual([])
      expect(r.statusMessage, `${r.server} ${r.middleware}`).toEqual({
        value: null,
        writable: true,
        enumerable: true,
        configurable: true,
      })
      if (r.middleware !== 'none') expect(r.body).toEqual({ name: 'x' })
    }
  })

  it(`under Express is a dictionary on V8 before 13 and left fast after (here ${v8})`, () => {
    for (const r of results.filter((x) => x.server !== 'node:http' && x.middleware !== 'none')) {
      expect(r.fast, `${r.server} ${r.middleware}`).toBe(sharedTransitions)
    }
    // The control: Express alone leaves the request fast.
    for (const r of results.filter((x) => x.middleware === 'none')) expect(r.fast).toBe(true)
  })

  it('on a plain node:http server is left fast', () => {
    const plain = results.find((r) => r.server === 'node:http')
    expect(plain?.fast).toBe(true)
  })
})
