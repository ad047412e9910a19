import { describe, expect, it } from 'vitest'
import { inheritedTest } from '../../src/core/presence.js'
import { expectPrototypesUntouched } from '../helpers/app.js'

// Names a JSON string literal must escape, or that mean something to JavaScript.
const odd = ['a"b', 'back\\slash', 'line\u2028sep', 'lone\ud800', '${x}', "') || true || ('", 'é']

/** Define `name` on Object.prototype, non-enumerable, for `run` only. */
function withInherited(name: string, run: () => void): void {
  Object.defineProperty(Object.prototype, name, { value: 1, configurable: true, writable: true })
  try {
    run()
  } finally {
    delete (Object.prototype as Record<string, unknown>)[name]
  }
}

describe('inheritedTest', () => {
  it.each([
    ['no names', []],
    ['a few', ['email', ...odd]],
    ['more than 64 (the loop)', [...Array.from({ length: 70 }, (_, i) => `n${i}`), ...odd]],
  ])('%s: false while Object.prototype holds none, true once it holds any', (_, names) => {
    const test = inheritedTest(names)
    // Answered many times first, as on a server, before the property comes.
    for (let i = 0; i < 10_000; i++) expect(test()).toBe(false)
    for (const name of names) {
      withInherited(name, () => expect(test()).toBe(true))
      expect(test()).toBe(false)
    }
    withInherited('unlisted', () => expect(test()).toBe(false))
    expectPrototypesUntouched()
  })

  it("is true for a name that is Object.prototype's own", () => {
    expect(inheritedTest(['toString'])()).toBe(true)
    expect(inheritedTest(['__proto__'])()).toBe(true)
    expect(inheritedTest(['x', 'constructor'])()).toBe(true)
  })
})
