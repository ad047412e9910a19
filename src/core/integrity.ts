import { createHmac, timingSafeEqual } from 'node:crypto'
import { bodyError, limitError } from '../errors.js'
import {
  deliveryId,
  type ReplayOptions,
  type ReplayPolicy,
  replayPolicy,
  type ReplayScope,
  replayScopes,
} from './replay.js'
import type { HeaderBag } from './request.js'

/**
 * Signature styles most senders use: GitHub's `sha256=<hex>`, Stripe's `t=<unix>,v1=<hex>`,
 * and Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`).
 */
export type SignaturePreset = 'github' | 'stripe' | 'standard-webhooks'
export type SignatureAlgorithm = 'sha256' | 'sha512'
export type SignatureEncoding = 'hex' | 'base64' | 'base64url'
/**
 * An HMAC key: a string (its UTF-8 bytes are the key, as GitHub and Stripe use it) or bytes.
 * With the Standard Webhooks preset a string is the sender's base64 secret, `whsec_` prefix
 * or not, and its decoded bytes are the key.
 */
export type SignatureSecret = string | Uint8Array

/**
 * A route's integrity check: an HMAC over the body, in a request header, checked before the
 * body is decoded. Give `preset` for GitHub or Stripe webhooks, or describe the header.
 */
export interface IntegrityOptions {
  /**
   * `'github'` (`X-Hub-Signature-256: sha256=<hex>`), `'stripe'` (`Stripe-Signature`) or
   * `'standard-webhooks'` (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
   */
  preset?: SignaturePreset
  /** The header holding the signature, e.g. `'x-signature'`. Required without a preset. */
  header?: string
  /** The shared secret. Give this or `secrets`. */
  secret?: SignatureSecret
  /** Several secrets at once, for key rotation: a signature made with any of them passes. */
  secrets?: readonly SignatureSecret[]
  /** HMAC hash. Default `'sha256'`. */
  algorithm?: SignatureAlgorithm
  /** How the header spells the signature. Default `'hex'`. */
  encoding?: SignatureEncoding
  /** Text before the signature in the header, e.g. `'sha256='`. Default none. */
  prefix?: string
  /**
   * A header holding the Unix time (seconds) the sender signed at. When set, the signed
   * payload is `<timestamp>.<body>` and a timestamp outside `tolerance` is refused (401).
   */
  timestampHeader?: string
  /** Seconds a timestamp may be from now, either way. Default 300 (Stripe's). */
  tolerance?: number
  /**
   * Refuse a second delivery of a verified body (409): `true` for an in-memory store, or
   * `{ store, header, window, onStoreError, storeTimeout }`. Default off.
   */
  replay?: ReplayOptions | boolean
}

/** An integrity check resolved at start-up: what the hot path reads. */
export interface IntegrityPolicy {
  readonly style: 'header' | 'stripe' | 'standard'
  readonly header: string
  readonly keys: readonly Buffer[]
  /** Each secret once, by its replay scope: a delivery is claimed under every one. */
  readonly scopes: readonly ReplayScope[]
  readonly algorithm: SignatureAlgorithm
  readonly encoding: SignatureEncoding
  readonly prefix: string
  readonly timestampHeader: string | null
  /** A header whose value is signed before the timestamp (Standard Webhooks' `webhook-id`). */
  readonly idHeader: string | null
  readonly tolerance: number
  readonly digestLength: number
  readonly replay: ReplayPolicy | null
}

/** What the headers claim, parsed before the body is read. */
export interface SignatureClaim {
  readonly signatures: readonly Buffer[]
  /** The signed timestamp, as sent (digits), when the scheme signs one. */
  readonly timestamp: string | null
  /** The signed message id, when the scheme signs one (`<id>.<timestamp>.<body>`). */
  readonly id: string | null
  /** The delivery id, when replay protection reads it from a header. */
  readonly delivery: string | null
}

const integrityKeys = new Set<string>([
  'preset',
  'header',
  'secret',
  'secrets',
  'algorithm',
  'encoding',
  'prefix',
  'timestampHeader',
  'tolerance',
  'replay',
])
const digestLengths: Record<SignatureAlgorithm, number> = { sha256: 32, sha512: 64 }
const encodingPatterns: Record<SignatureEncoding, RegExp> = {
  hex: /^[0-9a-fA-F]+$/,
  base64: /^[A-Za-z0-9+/]+={0,2}$/,
  base64url: /^[A-Za-z0-9_-]+$/,
}
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// A Stripe header lists one v1 signature per active secret; more than this is not a sender.
const MAX_SIGNATURES = 8
const MAX_SECRETS = 16
const presets = new Set<unknown>(['github', 'stripe', 'standard-webhooks'])
// Message ids, delivery ids, event ids: short visible ASCII.
const MESSAGE_ID = /^[\x21-\x7e]{1,200}$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Check an `integrity` option once, at start-up, and resolve it. Never prints a secret. */
export function integrityPolicy(options: unknown, where: string): IntegrityPolicy {
  const what = `${where}: integrity`
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`safebody: ${what} must be an object or false`)
  }
  for (const key of Object.keys(options)) {
    if (!integrityKeys.has(key)) throw new TypeError(`safebody: unknown option "${key}" in ${what}`)
  }
  const o = options as IntegrityOptions
  if (o.preset !== undefined && !presets.has(o.preset)) {
    throw new TypeError(
      `safebody: ${what}: preset must be 'github', 'stripe' or 'standard-webhooks'`,
    )
  }
  const standard = o.preset === 'standard-webhooks'
  if (o.preset === 'stripe' || standard) {
    const fixed = ['algorithm', 'encoding', 'prefix', 'timestampHeader'] as const
    for (const key of standard ? [...fixed, 'header' as const] : fixed) {
      if (o[key] !== undefined) {
        throw new TypeError(`safebody: ${what}: ${key} is fixed by the ${o.preset} preset`)
      }
    }
  }
  const github = o.preset === 'github'
  if (standard) return standardWebhooksPolicy(o, what)
  const algorithm = o.algorithm ?? 'sha256'
  if (!Object.hasOwn(digestLengths, algorithm)) {
    throw new TypeError(`safebody: ${what}: algorithm must be 'sha256' or 'sha512'`)
  }
  const encoding = o.encoding ?? 'hex'
  if (!Object.hasOwn(encodingPatterns, encoding)) {
    throw new TypeError(`safebody: ${what}: encoding must be 'hex', 'base64' or 'base64url'`)
  }
  const prefix = o.prefix ?? (github ? 'sha256=' : '')
  if (typeof prefix !== 'string') throw new TypeError(`safebody: ${what}: prefix must be a string`)
  const tolerance = toleranceOf(o, what)
  const defaultHeader =
    o.preset === 'stripe' ? 'stripe-signature' : github ? 'x-hub-signature-256' : undefined
  const keys = secretKeys(o, what)
  return {
    style: o.preset === 'stripe' ? 'stripe' : 'header',
    header: headerName(o.header ?? defaultHeader, `${what}: header`),
    keys,
    scopes: replayScopes(keys),
    algorithm,
    encoding,
    prefix,
    timestampHeader:
      o.timestampHeader === undefined
        ? null
        : headerName(o.timestampHeader, `${what}: timestampHeader`),
    idHeader: null,
    tolerance,
    digestLength: digestLengths[algorithm],
    replay: replayPolicy(o.replay, o, what),
  }
}

/**
 * Standard Webhooks: HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>`, keyed by the
 * base64-decoded secret, in `webhook-signature` as space-separated `v1,<base64>` entries (one
 * per active key while the sender rotates), five minutes of tolerance; `webhook-id` is signed,
 * so it is the replay key.
 */
function standardWebhooksPolicy(o: IntegrityOptions, what: string): IntegrityPolicy {
  const tolerance = toleranceOf(o, what)
  const keys = secretKeys(o, what, (secret) => standardKey(secret, what))
  return {
    style: 'standard',
    header: 'webhook-signature',
    keys,
    scopes: replayScopes(keys),
    algorithm: 'sha256',
    encoding: 'base64',
    prefix: '',
    timestampHeader: 'webhook-timestamp',
    idHeader: 'webhook-id',
    tolerance,
    digestLength: digestLengths.sha256,
    replay: replayPolicy(o.replay, o, what, 'webhook-id'),
  }
}

/** A `whsec_<base64>` secret (or the base64 alone) as its key bytes. */
function standardKey(secret: string, what: string): Buffer {
  const text = secret.startsWith('whsec_') ? secret.slice(6) : secret
  if (text === '' || !BASE64.test(text)) {
    throw new TypeError(
      `safebody: ${what}: a standard-webhooks secret is base64, with or without the whsec_ prefix`,
    )
  }
  return Buffer.from(text, 'base64')
}

/** Seconds a signed timestamp may be from now: 300 (Stripe's and Standard Webhooks') unless set. */
function toleranceOf(o: IntegrityOptions, what: string): number {
  const tolerance = o.tolerance ?? 300
  if (typeof tolerance !== 'number' || !Number.isSafeInteger(tolerance) || tolerance < 1) {
    throw new TypeError(`safebody: ${what}: tolerance must be a positive number of seconds`)
  }
  return tolerance
}

function headerName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    throw new TypeError(`safebody: ${what} must be a header name`)
  }
  return value.toLowerCase()
}

/**
 * The route's HMAC keys, checked: bytes as given, a string as `key` reads it (its UTF-8 bytes
 * unless the preset says otherwise).
 */
function secretKeys(
  o: IntegrityOptions,
  what: string,
  key: (secret: string) => Buffer = (secret) => Buffer.from(secret, 'utf8'),
): Buffer[] {
  if (o.secret !== undefined && o.secrets !== undefined) {
    throw new TypeError(`safebody: ${what}: give secret or secrets, not both`)
  }
  const list = o.secrets ?? (o.secret === undefined ? [] : [o.secret])
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SECRETS) {
    throw new TypeError(`safebody: ${what} needs a secret (or 1 to ${MAX_SECRETS} secrets)`)
  }
  return list.map((secret: unknown) => {
    if (typeof secret === 'string' && secret.length > 0) return key(secret)
    if (secret instanceof Uint8Array && secret.length > 0) return Buffer.from(secret)
    throw new TypeError(`safebody: ${what}: every secret must be a non-empty string or bytes`)
  })
}

/**
 * True when a body that passed the check `checked` (another binding's, compiled from its own
 * options) has passed `required` too: the same scheme and headers, every key that could have
 * matched one `required` accepts, a timestamp tolerance no wider, and, if `required` has a
 * replay store, the same store, delivery header and window. Each binding compiles its own
 * policy, so equal options make equal checks. (Whether the store answered is the caller's to
 * ask: a failure passed over with `onStoreError: 'pass'` claimed nothing.)
 */
export function satisfies(checked: IntegrityPolicy | null, required: IntegrityPolicy): boolean {
  if (checked === required) return true
  if (checked === null) return false
  const replayHeld =
    required.replay === null ||
    (checked.replay !== null &&
      checked.replay.store === required.replay.store &&
      checked.replay.header === required.replay.header &&
      checked.replay.window === required.replay.window)
  return (
    checked.style === required.style &&
    checked.header === required.header &&
    checked.algorithm === required.algorithm &&
    checked.encoding === required.encoding &&
    checked.prefix === required.prefix &&
    checked.timestampHeader === required.timestampHeader &&
    checked.idHeader === required.idHeader &&
    checked.tolerance <= required.tolerance &&
    checked.keys.every((key) => required.keys.some((accepted) => accepted.equals(key))) &&
    replayHeld
  )
}

/**
 * Read the signature (and timestamp) from the headers, before the body: refuse 401 when it
 * is missing, malformed, or signed outside the tolerance window (a replay).
 */
export function readSignature(
  headers: HeaderBag,
  policy: IntegrityPolicy,
  now = Date.now(),
): SignatureClaim {
  const value = headerValue(headers, policy.header, policy.style === 'standard' ? ' ' : ', ')
  if (value === undefined) throw missing()
  const delivery = policy.replay === null ? null : deliveryId(headers, policy.replay)
  const claim =
    policy.style === 'stripe'
      ? stripeClaim(value, policy, delivery)
      : policy.style === 'standard'
        ? standardClaim(value, headers, policy, delivery)
        : {
            signatures: [signatureBytes(value, policy)],
            timestamp: timestampOf(headers, policy),
            id: null,
            delivery,
          }
  if (claim.timestamp !== null) {
    const age = Math.abs(now / 1000 - Number(claim.timestamp))
    if (!(age <= policy.tolerance)) {
      throw limitError(
        'entity.signature.expired',
        `The signature is more than ${policy.tolerance} seconds from now`,
        policy.tolerance,
        undefined,
      )
    }
  }
  return claim
}

/**
 * Check the claimed signature against an HMAC of the body as read (after inflation), with
 * every secret, in constant time. Throws 401 `entity.signature.invalid` when none matches;
 * returns the HMAC under each secret, in `policy.keys` order, which identify the signed bytes
 * (replay keys).
 */
export function verifySignature(
  claim: SignatureClaim,
  body: Buffer,
  policy: IntegrityPolicy,
): Buffer[] {
  let matched = false
  const digests: Buffer[] = []
  // Every secret and every signature is compared, so timing says nothing about which matched.
  for (const key of policy.keys) {
    const hmac = createHmac(policy.algorithm, key)
    if (claim.id !== null) hmac.update(`${claim.id}.`, 'latin1')
    if (claim.timestamp !== null) hmac.update(`${claim.timestamp}.`, 'latin1')
    const digest = hmac.update(body).digest()
    digests.push(digest)
    for (const signature of claim.signatures) {
      if (timingSafeEqual(digest, signature)) matched = true
    }
  }
  if (!matched) throw invalid('The body signature does not match.')
  return digests
}

function headerValue(headers: HeaderBag, name: string, join = ', '): string | undefined {
  const raw = headers[name]
  const value = Array.isArray(raw) ? raw.join(join) : raw
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function timestampOf(headers: HeaderBag, policy: IntegrityPolicy): string | null {
  if (policy.timestampHeader === null) return null
  const value = headerValue(headers, policy.timestampHeader)
  if (value === undefined) throw missing()
  return unixTime(value)
}

function unixTime(value: string): string {
  if (!/^\d{1,12}$/.test(value)) throw invalid('The signature timestamp is malformed.')
  return value
}

/** The signature after the prefix, decoded; the length must be the digest's. */
function signatureBytes(value: string, policy: IntegrityPolicy): Buffer {
  if (!value.startsWith(policy.prefix)) throw invalid('The signature header is malformed.')
  const text = value.slice(policy.prefix.length)
  if (!encodingPatterns[policy.encoding].test(text)) {
    throw invalid('The signature header is malformed.')
  }
  const bytes = Buffer.from(text, policy.encoding)
  if (bytes.length !== policy.digestLength) throw invalid('The signature has the wrong length.')
  // Node's decoders drop what does not fill a byte (an odd last hex digit, base64's spare
  // bits): only the one spelling of the digest is a signature.
  if (!spelledExactly(text, bytes, policy.encoding)) {
    throw invalid('The signature header is malformed.')
  }
  return bytes
}

function spelledExactly(text: string, bytes: Buffer, encoding: SignatureEncoding): boolean {
  if (encoding === 'hex') return text.length === bytes.length * 2
  const canonical = bytes.toString(encoding)
  // Padding is optional: senders and libraries differ on it.
  return encoding === 'base64'
    ? text.replace(/=+$/, '') === canonical.replace(/=+$/, '')
    : text === canonical
}

/** `t=<unix>,v1=<hex>[,v1=<hex>...]`; other schemes (v0) are ignored, as Stripe's own SDK does. */
function stripeClaim(
  value: string,
  policy: IntegrityPolicy,
  delivery: string | null,
): SignatureClaim {
  let timestamp: string | null = null
  const signatures: Buffer[] = []
  for (const item of value.split(',')) {
    const eq = item.indexOf('=')
    if (eq === -1) throw invalid('The signature header is malformed.')
    const key = item.slice(0, eq).trim()
    const text = item.slice(eq + 1).trim()
    if (key === 't') {
      if (timestamp !== null) throw invalid('The signature header holds two timestamps.')
      timestamp = unixTime(text)
    } else if (key === 'v1') {
      if (signatures.length === MAX_SIGNATURES) throw invalid('Too many signatures.')
      signatures.push(signatureBytes(text, policy))
    }
  }
  if (timestamp === null || signatures.length === 0) {
    throw invalid('The signature header is malformed.')
  }
  return { signatures, timestamp, id: null, delivery }
}

/**
 * `webhook-signature: v1,<base64> v1,<base64>`: entries of other versions (`v1a`, signed with
 * a public key) are skipped, as the spec's libraries do; at least one `v1` must be there.
 */
function standardClaim(
  value: string,
  headers: HeaderBag,
  policy: IntegrityPolicy,
  delivery: string | null,
): SignatureClaim {
  const id = headerValue(headers, policy.idHeader as string)
  if (id === undefined) throw missing()
  if (!MESSAGE_ID.test(id)) throw invalid('The webhook-id header is malformed.')
  const signatures: Buffer[] = []
  for (const entry of value.split(/\s+/)) {
    const comma = entry.indexOf(',')
    if (comma === -1) throw invalid('The signature header is malformed.')
    if (entry.slice(0, comma) !== 'v1') continue
    if (signatures.length === MAX_SIGNATURES) throw invalid('Too many signatures.')
    signatures.push(signatureBytes(entry.slice(comma + 1), policy))
  }
  if (signatures.length === 0) throw invalid('The signature header holds no v1 signature.')
  return { signatures, timestamp: timestampOf(headers, policy), id, delivery }
}

function missing() {
  return bodyError('entity.signature.missing', 'This route requires a signed body.')
}

function invalid(detail: string) {
  return bodyError('entity.signature.invalid', detail)
}
