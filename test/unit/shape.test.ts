import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { toDictionary } from '../../src/core/shape.js'

// toDictionary is what readyForAdds does on Node 20 to 23 (test/e2e/request-shape.test.ts
// asks V8 which Node does it); called here directly, so that it is tested on every Node.

/** A request as Express hands it on: Node's IncomingMessage under a prototype of its own. */
function expressLike(): IncomingMessage {
  const req = new IncomingMessage(new Socket())
  Object.setPrototypeOf(req, Object.create(IncomingMessage.prototype))
  return req
}

const snapshot = (req: object) => ({
  keys: Reflect.ownKeys(req),
  descriptors: Object.getOwnPropertyDescriptors(req),
})

describe('toDictionary', () => {
  it("moves only Node's null statusMessage, last in key order, its value and attributes kept", () => {
    const req = expressLike()
    const before = snapshot(req)
    expect(toDictionary(req)).toBe(true)
    const after = snapshot(req)
    expect(after.descriptors).toEqual(before.descriptors)
    // Last among the string keys (symbols always follow them).
    const names = (keys: Array<string | symbol>) => keys.filter((k) => typeof k === 'string')
    expect(names(after.keys)).toEqual([
      ...names(before.keys).filter((k) => k !== 'statusMessage'),
      'statusMessage',
    ])
    expect(after.keys.filter((k) => typeof k === 'symbol')).toEqual(
      before.keys.filter((k) => typeof k === 'symbol'),
    )
    expect(req.statusMessage).toBeNull()
  })

  it('puts statusMessage back past a setter up the prototype chain', () => {
    const req = expressLike()
    let calls = 0
    Object.defineProperty(Object.getPrototypeOf(req), 'statusMessage', {
      get: () => 'from the prototype',
      set: () => calls++,
      configurable: true,
    })
    expect(toDictionary(req)).toBe(true)
    expect(Object.getOwnPropertyDescriptor(req, 'statusMessage')).toEqual({
      value: null,
      writable: true,
      enumerable: true,
      configurable: true,
    })
    expect(calls).toBe(0)
  })

  it.each([
    ['a string', (req: object) => Object.assign(req, { statusMessage: 'OK' })],
    [
      'an accessor',
      (req: object) =>
        Object.defineProperty(req, 'statusMessage', {
          get: () => null,
          configurable: true,
          enumerable: true,
        }),
    ],
    [
      'read-only',
      (req: object) =>
        Object.defineProperty(req, 'statusMessage', {
          value: null,
          writable: false,
          configurable: true,
        }),
    ],
    [
      'not enumerable',
      (req: object) =>
        Object.defineProperty(req, 'statusMessage', {
          value: null,
          enumerable: false,
          configurable: true,
        }),
    ],
    [
      'not configurable',
      (req: object) =>
        Object.defineProperty(req, 'statusMessage', {
          value: null,
          writable: true,
          configurable: false,
        }),
    ],
    ['on a request that takes no new property', (req: object) => Object.preventExtensions(req)],
    ['absent', (req: object) => Reflect.deleteProperty(req, 'statusMessage')],
  ])('leaves a statusMessage that is %s, and the key order, as they are', (_, set) => {
    const req = expressLike()
    set(req)
    const before = snapshot(req)
    expect(toDictionary(req)).toBe(false)
    expect(snapshot(req)).toEqual(before)
  })

  it("leaves a request on Node's own prototype or a subclass's as it is", () => {
    const plain = new IncomingMessage(new Socket())
    class Sub extends IncomingMessage {}
    const sub = new Sub(new Socket())
    for (const req of [plain, sub]) {
      const before = snapshot(req)
      expect(toDictionary(req)).toBe(false)
      expect(snapshot(req)).toEqual(before)
    }
    const bare = Object.assign(Object.create(null) as object, { statusMessage: null, a: 1 })
    expect(toDictionary(bare)).toBe(false)
    expect(Reflect.ownKeys(bare)).toEqual(['statusMessage', 'a'])
  })
})
