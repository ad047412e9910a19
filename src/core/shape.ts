import { IncomingMessage } from 'node:http'

/**
 * Whether V8 gives two requests that receive the same property the same hidden class after
 * Express replaced their prototype. V8 13 (Node 24) does; V8 11 and 12 (Node 20 to 23) give
 * each such request a new one per property added.
 */
const SHARED_TRANSITIONS = Number.parseInt(process.versions.v8 ?? '13', 10) >= 13

/**
 * Ready a request whose prototype a framework replaced (Express's `setPrototypeOf`) for the
 * properties about to be added to it (`body`, `_body`, and the application's after them).
 *
 * Why: on Node 20 to 23 each such add makes a hidden class for that one request, at about
 * 2-3.5 µs on Node 20 and 1.5-2 µs on Node 22 (a microbenchmark of an IncomingMessage given
 * Express's prototype), and every later property load on it misses V8's inline caches.
 * Deleting a property other than the last one added turns the object into a dictionary, a
 * hidden class V8 shares among such objects, which takes adds as hash inserts: on the
 * yardstick's 300 B body the whole Express request got 4-6 µs cheaper on Node 20 and 22.
 * The property deleted is `statusMessage`, a response field that Node sets to null on every
 * request; it is set again at once, the same value, only last in key order. On Node 24 the
 * adds are already cheap and the dictionary costs about 1 µs, so nothing is done there, nor
 * on a request that kept Node's own prototype (a plain node:http server).
 */
export function readyForAdds(req: object): void {
  if (SHARED_TRANSITIONS || Object.getPrototypeOf(req) === IncomingMessage.prototype) return
  const field = Object.getOwnPropertyDescriptor(req, 'statusMessage')
  // Only Node's own field: a plain, writable data property holding null.
  if (field?.value !== null || !field.writable || !field.enumerable || !field.configurable) return
  if (Reflect.deleteProperty(req, 'statusMessage')) Reflect.set(req, 'statusMessage', null)
}
