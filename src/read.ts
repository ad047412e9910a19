import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import zlib from 'node:zlib'
import getRawBody from 'raw-body'
import { type BodyErrorProps, bodyError, isBodyError } from './errors.js'
import { createZstdInflater, hasZstd } from './zstd.js'

/** How a body may be read: at most `limit` bytes (on the wire and inflated) in `timeout` ms. */
export interface ReadPolicy {
  readonly limit: number
  readonly timeout: number
  /** Whether gzip, deflate and br bodies are inflated; if not, they are refused with 415. */
  readonly inflate: boolean
}

/**
 * True when the request carries a body: chunked, or a Content-Length above zero. A
 * `Content-Length: 0` is no body, so a bodiless POST passes through like a GET.
 */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true
  const length = req.headers['content-length']
  return length !== undefined && length !== '0'
}

/**
 * Read the whole body into memory, inflating it if it is compressed, and refuse it as soon
 * as it is known to break the policy: a declared length above the limit from the headers
 * alone, before any byte is read; a running count above the limit, on the wire or inflated,
 * as soon as it passes; a body not complete within the timeout.
 */
export function readBody(req: IncomingMessage, policy: ReadPolicy): Promise<Buffer> {
  const { limit } = policy
  const declared = req.headers['content-length']
  const length = declared === undefined ? null : Number(declared)
  if (length !== null && length > limit) {
    return Promise.reject(tooLarge(limit, { length, expected: length }))
  }
  const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  if (coding === 'identity') {
    // raw-body stays the reader for what only it guards against (a stream already read, or
    // one decoding to strings); the common case takes the lean reader below.
    if (req.readable && !req.readableEncoding) return readIdentity(req, policy, length)
    return readStream(req, null, policy, length)
  }
  if (!policy.inflate) return Promise.reject(unsupportedEncoding(coding))
  const inflater = createInflater(coding)
  if (inflater === null) return Promise.reject(unsupportedEncoding(coding))
  return readStream(req, inflater, policy, null)
}

function readStream(
  req: IncomingMessage,
  inflater: Duplex | null,
  policy: ReadPolicy,
  length: number | null,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false
    const finish = (err: unknown, bytes?: Buffer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.removeListener('close', onClose)
      if (inflater !== null) {
        req.removeListener('data', countWire)
        if (err) {
          req.unpipe(inflater)
          inflater.destroy()
        }
      }
      if (err) {
        req.pause()
        reject(asBodyError(err, policy.limit))
      } else resolve(bytes as Buffer)
    }
    const timer = setTimeout(() => {
      finish(bodyError('request.timeout', `The body did not arrive within ${policy.timeout} ms.`))
    }, policy.timeout)
    // raw-body sees an abort only on the stream it reads; when that is an inflater, the
    // request's own end has to be watched here, or an aborted gzip body waits for the timer.
    const onClose = () => {
      if (!req.complete) finish(bodyError('request.aborted', 'The request was aborted.'))
    }
    req.once('close', onClose)
    let wire = 0
    const countWire = (chunk: Buffer) => {
      wire += chunk.length
      if (wire > policy.limit) finish(tooLarge(policy.limit, { received: wire }))
    }
    if (inflater !== null) {
      req.on('data', countWire)
      req.pipe(inflater)
    }
    const source: NodeJS.ReadableStream = inflater ?? req
    getRawBody(source, { limit: policy.limit, length }, finish)
  })
}

/**
 * The identity reader: raw-body's guarantees (the limit on the running count, the declared
 * length checked at the end, abort and stream errors mapped as raw-body maps them) and the
 * read timeout, without its per-request AsyncResource and closures. A body that arrives in
 * one chunk is handed on without a copy.
 */
function readIdentity(
  req: IncomingMessage,
  policy: ReadPolicy,
  length: number | null,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const { limit } = policy
    const chunks: Buffer[] = []
    let received = 0
    let settled = false
    const finish = (err: unknown, bytes?: Buffer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.removeListener('data', onData)
      req.removeListener('end', onEnd)
      req.removeListener('error', onError)
      req.removeListener('aborted', onAborted)
      req.removeListener('close', onClose)
      if (err) {
        req.pause()
        reject(err)
      } else resolve(bytes as Buffer)
    }
    const onData = (chunk: Buffer) => {
      received += chunk.length
      if (received > limit) finish(tooLarge(limit, { received }))
      else chunks.push(chunk)
    }
    const onEnd = () => {
      if (length !== null && received !== length) {
        finish(
          bodyError('request.size.invalid', 'The body length does not match Content-Length.', {
            received,
            expected: length,
            length,
          }),
        )
      } else finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received))
    }
    const onError = (err: unknown) => finish(asBodyError(err, limit))
    // raw-body's properties, so body-parser users see the same error.
    const onAborted = () =>
      finish(
        bodyError('request.aborted', 'The request was aborted.', {
          received,
          ...(length === null ? {} : { expected: length, length }),
        }),
      )
    const onClose = () => {
      if (!req.complete) onAborted()
    }
    const timer = setTimeout(() => {
      finish(bodyError('request.timeout', `The body did not arrive within ${policy.timeout} ms.`))
    }, policy.timeout)
    req.on('aborted', onAborted)
    req.on('close', onClose)
    req.on('error', onError)
    req.on('end', onEnd)
    req.on('data', onData)
  })
}

// One coding, applied once: a stacked `gzip, gzip` is refused rather than peeled, since
// each layer multiplies what a small body can inflate to.
function createInflater(coding: string): Duplex | null {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip()
    case 'deflate':
      return zlib.createInflate()
    case 'br':
      return zlib.createBrotliDecompress()
    case 'zstd':
      return createZstdInflater()
    default:
      return null
  }
}

/** raw-body and zlib fail with their own errors; map each to the catalogue. */
function asBodyError(err: unknown, limit: number) {
  if (isBodyError(err)) return err
  const e = err as {
    type?: unknown
    status?: unknown
    received?: number
    expected?: number
    length?: number
  }
  // raw-body's own 500s (a stream already read or decoded) are server faults: pass them on.
  if (typeof e.status === 'number' && e.status >= 500) return err
  switch (e.type) {
    case 'entity.too.large':
      return tooLarge(limit, { received: e.received })
    case 'request.aborted':
      return bodyError('request.aborted', 'The request was aborted.', {
        received: e.received,
        expected: e.expected,
        length: e.length,
        cause: err,
      })
    case 'request.size.invalid':
      return bodyError('request.size.invalid', 'The body length does not match Content-Length.', {
        received: e.received,
        expected: e.expected,
        length: e.length,
        cause: err,
      })
    default:
      return bodyError('entity.encoding.invalid', 'The compressed body does not inflate.', {
        cause: err,
      })
  }
}

function tooLarge(limit: number, props: BodyErrorProps) {
  return bodyError('entity.too.large', `The body is larger than ${limit} bytes.`, {
    limit,
    ...props,
  })
}

function unsupportedEncoding(coding: string) {
  return bodyError(
    'encoding.unsupported',
    `Content-Encoding must be ${hasZstd ? 'identity, gzip, deflate, br or zstd' : 'identity, gzip, deflate or br'}, applied once.`,
    { encoding: coding },
  )
}
