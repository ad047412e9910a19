import { IncomingMessage } from 'node:http'

/**
 * True where V8 gives each request whose prototype a framework replaced (Express's
 * `setPrototypeOf`) hidden classes of its own: V8 11 and 12 (Node 20 to 23) make a new one for
 * each property added after the change, so two such requests never share one, and a property
 * load at a fixed site in our code misses its inline cache on every request. V8 13 (Node 24)
 * shares them. Anything else (an unknown version, or Bun, which reports a V8 version it does
 * not run) is taken as sharing.
 *
 * Where true, such a request is read with `Reflect.get` (one generic lookup, where a missed
 * cache costs 0.45-0.5 µs a load on Node 20) and readied for adds (`readyForAdds`); where
 * false, it is read with plain loads, which hit the cache: on Node 24 the middleware
 * yardstick's small body, run in one process, went from 0.93 of the reference with
 * `Reflect.get` to 0.94-0.96 with plain loads (bench/ANALYSIS.md).
 */
export const unsharedShapes: boolean =
  process.versions.bun === undefined && Number.parseInt(process.versions.v8 ?? '', 10) < 13

/**
 * Ready a request whose prototype a framework replaced (Express's `setPrototypeOf`) for the
 * properties about to be added to it (`body`, `_body`, and the application's after them).
 *
 * Why: on Node 20 to 23 each such add makes a hidden class for that one request, at about
 * 2-3.5 µs on Node 20 and 1.5-2 µs on Node 22 (a microbenchmark of an IncomingMessage given
 * Express's prototype), and every later property load on it misses V8's inline caches.
 * Turning the object into a dictionary (see {@link toDictionary}) makes those adds hash
 * inserts: on the yardstick's 300 B body the whole Express request got 4-6 µs cheaper on
 * Node 20 and 22. On Node 24 the adds are already cheap and the dictionary costs about 1 µs,
 * so nothing is done there.
 */
export function readyForAdds(req: object): void {
  if (unsharedShapes) toDictionary(req)
}

/**
 * Turn a request under a replaced prototype into a dictionary, a hidden class V8 shares among
 * such objects: delete a property other than the last one added, then put it back. The one
 * deleted is `statusMessage`, a response field Node sets to null on every request; it comes
 * back the same, only last in key order. Left alone: a request on Node's own prototype or a
 * subclass's (`createServer({ IncomingMessage })`), whose adds share hidden classes; one that
 * cannot take the property back; one whose `statusMessage` is anything but Node's own field.
 * True when it was done.
 */
export function toDictionary(req: object): boolean {
  const proto = Object.getPrototypeOf(req) as object | null
  if (
    proto === IncomingMessage.prototype ||
    proto === null ||
    Object.hasOwn(proto, 'constructor')
  ) {
    return false
  }
  if (!Object.isExtensible(req)) return false
  const field = Object.getOwnPropertyDescriptor(req, 'statusMessage')
  // Only Node's own field: a plain, writable data property holding null.
  if (field?.value !== null || !field.writable || !field.enumerable || !field.configurable) {
    return false
  }
  // Put back as it was, past any setter up the prototype chain.
  return (
    Reflect.deleteProperty(req, 'statusMessage') &&
    Reflect.defineProperty(req, 'statusMessage', field)
  )
}
