import { createHash } from 'node:crypto'
import { bodyError, limitError, type BodyError } from '../errors.js'
import type { HeaderBag } from './request.js'

/**
 * Where delivery ids are remembered. `claim` records `key` for `ttl` milliseconds and
 * answers true when the key was new (a first delivery), false when it was already there (a
 * replay). It may answer later (a promise), or throw or reject when the store is unreachable.
 */
export interface ReplayStore {
  claim(key: string, ttl: number): boolean | PromiseLike<boolean>
  /**
   * Forget `key`, claimed for a request that was refused after all (503: the claim answered
   * too late, or the claim of another of the delivery's keys failed; 409: another of its keys
   * was found seen), so that a retry of the delivery the key belongs to finds it free.
   * Optional; without it, such a retry is refused as a replay while the key lives.
   */
  release?(key: string): unknown
}

/** What a route does when its store cannot answer: refuse with 503, or let the body through and report. */
export type ReplayStoreFailure = 'refuse' | 'pass'

/** Replay protection for a signed route (`integrity.replay`). */
export interface ReplayOptions {
  /** Where ids are kept. Default: an in-memory store for this process (`memoryReplayStore()`). */
  store?: ReplayStore
  /**
   * A header holding the sender's delivery id. Default none: the delivery is identified by
   * its signature. Use a header only if the sender signs it: an unsigned id can be changed.
   */
  header?: string
  /**
   * Seconds an id is remembered. Default: while the signed timestamp is inside `tolerance`
   * (a later replay is refused as expired anyway), else 86400 (a day).
   */
  window?: number
  /** When the store throws, rejects or does not answer within `storeTimeout`. Default `'refuse'` (503). */
  onStoreError?: ReplayStoreFailure
  /** Milliseconds the store may take to answer. Default 1000. */
  storeTimeout?: number
}

/** Replay protection resolved at start-up. */
export interface ReplayPolicy {
  readonly store: ReplayStore
  readonly header: string | null
  /** Milliseconds, or null for "while the timestamp is inside the tolerance" (else a day). */
  readonly window: number | null
  readonly onStoreError: ReplayStoreFailure
  readonly storeTimeout: number
}

const replayKeys = new Set(['store', 'header', 'window', 'onStoreError', 'storeTimeout'])
const DAY = 86_400_000
// Delivery ids are GUIDs, event ids, nonces: short visible ASCII.
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// The in-memory store a route gets when it names none, one per options object: routes that
// share an `integrity` option (the global one) share a store.
const defaultStores = new WeakMap<object, ReplayStore>()

/**
 * Check `integrity.replay` once, at start-up. `owner` keys the default store; `signedId` is
 * the header a preset signs (Standard Webhooks' `webhook-id`), the key unless one is named.
 */
export function replayPolicy(
  options: unknown,
  owner: object,
  what: string,
  signedId?: string,
): ReplayPolicy | null {
  if (options === undefined || options === false) return null
  const where = `${what}: replay`
  if (options !== true && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`safebody: ${where} must be true, false or an object`)
  }
  const o: ReplayOptions = options === true ? {} : (options as ReplayOptions)
  for (const key of Object.keys(o)) {
    if (!replayKeys.has(key)) throw new TypeError(`safebody: unknown option "${key}" in ${where}`)
  }
  if (
    o.store !== undefined &&
    (typeof o.store !== 'object' || o.store === null || typeof o.store.claim !== 'function')
  ) {
    throw new TypeError(`safebody: ${where}: store must have a claim(key, ttl) method`)
  }
  if (o.header !== undefined && (typeof o.header !== 'string' || !HEADER_NAME.test(o.header))) {
    throw new TypeError(`safebody: ${where}: header must be a header name`)
  }
  const onStoreError = o.onStoreError ?? 'refuse'
  if (onStoreError !== 'refuse' && onStoreError !== 'pass') {
    throw new TypeError(`safebody: ${where}: onStoreError must be 'refuse' or 'pass'`)
  }
  return {
    store: o.store ?? sharedStore(owner),
    header: o.header === undefined ? (signedId ?? null) : o.header.toLowerCase(),
    window: o.window === undefined ? null : positive(o.window, `${where}: window`) * 1000,
    onStoreError,
    storeTimeout: positive(o.storeTimeout ?? 1000, `${where}: storeTimeout`),
  }
}

function sharedStore(owner: object): ReplayStore {
  let store = defaultStores.get(owner)
  if (store === undefined) defaultStores.set(owner, (store = memoryReplayStore()))
  return store
}

function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`safebody: ${what} must be a positive integer`)
  }
  return value
}

/** The delivery id header's value, read with the signature, before the body (401 if absent or malformed). */
export function deliveryId(headers: HeaderBag, policy: ReplayPolicy): string | null {
  if (policy.header === null) return null
  const raw = headers[policy.header]
  const value = (Array.isArray(raw) ? raw.join(', ') : raw)?.trim()
  if (value === undefined || value === '') {
    throw bodyError('entity.signature.missing', 'This route requires a delivery id header.')
  }
  if (!DELIVERY_ID.test(value)) {
    throw bodyError('entity.signature.invalid', 'The delivery id header is malformed.')
  }
  return value
}

/**
 * A secret's replay scope: a short fingerprint of it (never the secret), the same in every
 * process that holds the secret. Senders with different secrets never share a key.
 */
export function secretScope(key: Buffer): string {
  const hash = createHash('sha256').update('safebody.replay-scope.v1\0').update(key)
  return hash.digest('base64url').slice(0, 16)
}

/**
 * The store keys of a verified delivery, one per secret of the route (`scopes`: each one's
 * index in the route's keys and its scope, distinct, in scope order), whichever of them
 * signed it: the sender's id under the secret's scope where the route names its header, else
 * the body's HMAC under that secret (`digests`, in the route's key order). Every secret, so
 * that the keys do not depend on which signatures a header carries (dropping one of two makes
 * no new key), nor on the order of `secrets`, and adding a secret in front keeps the memory
 * of deliveries seen under the others.
 */
export function deliveryKeys(
  id: string | null,
  header: string | null,
  scopes: readonly ReplayScope[],
  digests: readonly Buffer[],
): string[] {
  return scopes.map(({ index, scope }) =>
    id === null
      ? `sig:${(digests[index] as Buffer).toString('base64url')}`
      : `id:${scope}:${header}:${id}`,
  )
}

/** One secret's place among a route's keys, and its replay scope (`secretScope`). */
export interface ReplayScope {
  readonly index: number
  readonly scope: string
}

/** The route's secrets' scopes, each once, in scope order (an order every process shares). */
export function replayScopes(keys: readonly Buffer[]): ReplayScope[] {
  const seen = new Map<string, number>()
  keys.forEach((key, index) => {
    const scope = secretScope(key)
    if (!seen.has(scope)) seen.set(scope, index)
  })
  return [...seen]
    .map(([scope, index]) => ({ index, scope }))
    .sort((a, b) => (a.scope < b.scope ? -1 : 1))
}

/**
 * What claiming a delivery's keys found: every key new, one already seen, or the store
 * failing; `taken` lists the keys this claim took, to release if the request is refused.
 */
export type DeliveryClaim =
  | { readonly outcome: 'new' | 'seen'; readonly taken: readonly string[] }
  | { readonly outcome: 'failed'; readonly cause: unknown; readonly taken: readonly string[] }

/**
 * Claim `keys` one after another, in order, stopping at the first seen or failing: processes
 * that claim the same keys in the same order agree on which of two identical deliveries is
 * first. Answers at once while the store does (the in-memory one), else a promise that never
 * rejects. A store's answer that is not a boolean, a throw, a rejection, and a thenable whose
 * `then` throws are all the store failing.
 */
export function claimDelivery(
  store: ReplayStore,
  keys: readonly string[],
  ttl: number,
): DeliveryClaim | Promise<DeliveryClaim> {
  const taken: string[] = []
  const tally = (answer: unknown, key: string): DeliveryClaim | null => {
    if (answer === true) {
      taken.push(key)
      return null
    }
    if (answer === false) return { outcome: 'seen', taken }
    return { outcome: 'failed', cause: notAnAnswer(answer), taken }
  }
  const from = (start: number): DeliveryClaim | Promise<DeliveryClaim> => {
    for (let at = start; at < keys.length; at++) {
      const key = keys[at] as string
      let answer: unknown
      try {
        answer = store.claim(key, ttl)
      } catch (cause) {
        return { outcome: 'failed', cause, taken }
      }
      if (answer !== null && (typeof answer === 'object' || typeof answer === 'function')) {
        // Adopted by a promise of our own, which turns a `then` that throws (or a getter for
        // it that does) into a rejection: never a throw out of a stream's 'end' handler.
        const adopted = new Promise<unknown>((resolve) => resolve(answer))
        return adopted.then(
          (value) => tally(value, key) ?? from(at + 1),
          (cause: unknown): DeliveryClaim => ({ outcome: 'failed', cause, taken }),
        )
      }
      const done = tally(answer, key)
      if (done !== null) return done
    }
    return { outcome: 'new', taken }
  }
  return from(0)
}

/**
 * How long to remember a delivery, in ms. A signed timestamp is refused once it is more than
 * `tolerance` seconds old, so the id need not outlive that (plus a second of clock rounding).
 */
export function deliveryTtl(
  policy: ReplayPolicy,
  timestamp: string | null,
  tolerance: number,
  now: number,
): number {
  if (timestamp === null) return policy.window ?? DAY
  const left = Math.max(1000, (Number(timestamp) + tolerance + 1) * 1000 - now)
  return Math.max(left, policy.window ?? 0)
}

/** 409: this delivery was seen inside the window (`seconds`, as the route resolved it). */
export function replayed(seconds: number, route: string | undefined): BodyError {
  return limitError(
    'entity.signature.replayed',
    'This delivery was already received',
    `${seconds} s`,
    route,
  )
}

/** The window a route's ids are kept for, in seconds, as a refusal names it. */
export function windowSeconds(
  policy: ReplayPolicy,
  timestamped: boolean,
  tolerance: number,
): number {
  if (policy.window !== null)
    return timestamped ? Math.max(policy.window / 1000, tolerance) : policy.window / 1000
  return timestamped ? tolerance : DAY / 1000
}

/**
 * Release `keys`, which a claim took for a request that was refused (`ReplayStore.release`).
 * Whatever the store does then is ignored: at worst a key lives out its ttl.
 */
export function releaseTaken(policy: ReplayPolicy, keys: readonly string[]): void {
  const { store } = policy
  if (typeof store.release !== 'function') return
  for (const key of keys) {
    try {
      const done = store.release(key)
      if (isThenable(done)) done.then(undefined, () => undefined)
    } catch {
      // The key expires with its ttl.
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** 503: the store did not answer; the cause stays on the error, for logs. */
export function storeUnavailable(cause: unknown): BodyError {
  return bodyError('replay.store.unavailable', undefined, { cause })
}

/**
 * A claim answered with something other than true or false (`'OK'`, `null`: a Redis reply
 * handed on as it is): a broken store, never taken for "seen", which would refuse every
 * delivery as a replay, with a 409 that senders do not retry.
 */
export function notAnAnswer(answer: unknown): Error {
  const kind = answer === null ? 'null' : typeof answer
  return new TypeError(`the replay store's claim answered ${kind}, not true (new) or false (seen)`)
}

/** Options for the in-memory store. */
export interface MemoryReplayStoreOptions {
  /** Most ids held at once. Default 100000. A full store fails like an unreachable one. */
  max?: number
}

/**
 * An in-memory replay store for one process: bounded, each id dropped when its time is up.
 * Answers synchronously, so a route using it costs no promise. Behind a load balancer, with
 * several processes, use a shared store (`redisReplayStore`).
 *
 * @example
 * integrity: { preset: 'github', secret, replay: { store: memoryReplayStore({ max: 10_000 }) } }
 */
export function memoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore {
  const max = positive(options.max ?? 100_000, 'memoryReplayStore: max')
  // Insertion order is close to expiry order: sweeping from the front is amortised O(1).
  const expiries = new Map<string, number>()
  // An id that expires before one added ahead of it waits behind it, past the front sweep.
  // `behind` is never later than the first of those to expire: a full store passes over all
  // of its ids only once one may have, so a refused claim costs O(1), not a pass over `max`.
  let newest = -Infinity
  let behind = Infinity
  const sweep = (now: number) => {
    for (const [key, expiresAt] of expiries) {
      if (expiresAt > now) return
      expiries.delete(key)
    }
  }
  const sweepAll = (now: number) => {
    behind = Infinity
    newest = -Infinity
    for (const [key, expiresAt] of expiries) {
      if (expiresAt <= now) expiries.delete(key)
      else if (expiresAt < newest) behind = Math.min(behind, expiresAt)
      else newest = expiresAt
    }
  }
  return {
    claim(key, ttl) {
      const now = Date.now()
      sweep(now)
      const expiresAt = expiries.get(key)
      if (expiresAt !== undefined && expiresAt > now) return false
      if (expiresAt === undefined && expiries.size >= max) {
        if (behind <= now) sweepAll(now)
        // Dropping a live id would let its replay through: refuse to forget instead.
        if (expiries.size >= max) throw new Error(`memoryReplayStore is full (${max} ids)`)
      }
      const until = now + ttl
      if (until < newest) behind = Math.min(behind, until)
      else newest = until
      expiries.delete(key)
      expiries.set(key, until)
      return true
    },
    // A key taken for a request refused after all (another of its keys failed). `newest` and
    // `behind` stay bounds: at worst a full store sweeps once more than it needs.
    release(key) {
      expiries.delete(key)
    },
  }
}
