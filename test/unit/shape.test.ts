import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { readyForAdds } from '../../src/core/shape.js'

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

describe('readyForAdds', () => {
  it("moves only Node's null statusMessage, keeping its value and attributes", () => {
    const req = expressLike()
    const before = snapshot(req)
    readyForAdds(req)
    const after = snapshot(req)
    expect(after.descriptors).toEqual(before.descriptors)
    expect(new Set(after.keys)).toEqual(new Set(before.keys))
    expect(req.statusMessage).toBeNull()
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
      'not configurable',
      (req: object) =>
        Object.defineProperty(req, 'statusMessage', {
          value: null,
          writable: true,
          configurable: false,
        }),
    ],
  ])('leaves a statusMessage that is %s, and the key order, as they are', (_, set) => {
    const req = expressLike()
    set(req)
    const before = snapshot(req)
    readyForAdds(req)
    expect(snapshot(req)).toEqual(before)
  })

  it("leaves a request on Node's own prototype, and an object without the field, as they are", () => {
    const plain = new IncomingMessage(new Socket())
    const before = snapshot(plain)
    readyForAdds(plain)
    expect(snapshot(plain)).toEqual(before)
    const other = Object.setPrototypeOf({ a: 1, b: 2 }, Object.create(null)) as object
    readyForAdds(other)
    expect(Reflect.ownKeys(other)).toEqual(['a', 'b'])
  })
})
