import net from 'node:net'
import { type AttackCase, bodyOf } from '../fixtures/attacks/types.js'

/** What came back for one case. */
export interface Outcome {
  /** The response status, or null when the connection ended without a response. */
  status: number | null
  headers: Record<string, string>
  /** The response body, parsed as JSON when it is JSON. */
  body: unknown
  /** Milliseconds from the first byte written to the response (or the close). */
  ms: number
}

/** The path a case is sent to: its route, mounted for its format. */
export function pathOf(entry: AttackCase): string {
  return `/${entry.route ?? 'open'}/${entry.format}`
}

/**
 * Send one corpus case over a raw TCP socket, exactly as the case says (lying headers,
 * trickled or aborted bodies included), and read the first response. Gives up after
 * `deadlineMs`: a case that gets no answer by then is a hang.
 */
export function sendCase(port: number, entry: AttackCase, deadlineMs: number): Promise<Outcome> {
  const delivery = entry.delivery
  const request = delivery?.kind === 'raw' ? delivery.bytes : requestBytes(entry)
  const headLength = delivery?.kind === 'raw' ? request.length : request.indexOf('\r\n\r\n') + 4
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timers: NodeJS.Timeout[] = []
    let done = false
    const finish = (status: number | null, headers: Record<string, string>, body: unknown) => {
      if (done) return
      done = true
      for (const t of timers) clearTimeout(t)
      socket.destroy()
      resolve({ status, headers, body, ms: performance.now() - started })
    }
    timers.push(
      setTimeout(() => {
        if (done) return
        done = true
        socket.destroy()
        reject(new Error(`${entry.id}: no response within ${deadlineMs} ms`))
      }, deadlineMs),
    )
    socket.on('error', () => {
      // A reset after the server refused mid-body is expected; the close handler decides.
    })
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      const parsed = parseResponse(Buffer.concat(chunks))
      if (parsed) finish(parsed.status, parsed.headers, parsed.body)
    })
    socket.on('close', () => {
      const parsed = parseResponse(Buffer.concat(chunks), true)
      if (parsed) finish(parsed.status, parsed.headers, parsed.body)
      else finish(null, {}, undefined)
    })
    socket.on('connect', () => {
      if (delivery === undefined) {
        socket.write(request)
      } else if (delivery.kind === 'raw') {
        socket.write(request)
        if (delivery.then === 'end') socket.end()
        if (delivery.then === 'destroy') socket.destroy()
      } else if (delivery.kind === 'abort') {
        socket.write(request.subarray(0, headLength + delivery.after), () => {
          timers.push(setTimeout(() => socket.resetAndDestroy(), 20))
        })
      } else {
        socket.write(request.subarray(0, headLength))
        const end = Math.min(request.length, headLength + (delivery.stopAfter ?? Infinity))
        let at = headLength
        const tick = () => {
          if (done || socket.destroyed) return
          const next = Math.min(end, at + delivery.size)
          socket.write(request.subarray(at, next))
          at = next
          if (at < end) timers.push(setTimeout(tick, delivery.intervalMs))
        }
        timers.push(setTimeout(tick, delivery.intervalMs))
      }
    })
  })
}

/** The request a well-formed client would send for a case: head, then the body. */
export function requestBytes(entry: AttackCase): Buffer {
  const body = bodyOf(entry)
  const headers: Record<string, string> = { host: '127.0.0.1', connection: 'close' }
  if (entry.contentType !== null) headers['content-type'] = entry.contentType
  if (entry.encoding !== 'identity') headers['content-encoding'] = entry.encoding
  for (const [name, value] of Object.entries(entry.headers ?? {})) {
    headers[name.toLowerCase()] = value
  }
  const chunked = headers['transfer-encoding'] === 'chunked'
  if (!chunked && headers['content-length'] === undefined) {
    headers['content-length'] = String(body.length)
  }
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  const wire = chunked ? chunk(body) : body
  return Buffer.concat([Buffer.from(`POST ${pathOf(entry)} HTTP/1.1\r\n${head}\r\n`), wire])
}

// Chunks of at most 16 kB, then the last chunk.
function chunk(body: Buffer): Buffer {
  const parts: Buffer[] = []
  for (let at = 0; at < body.length; at += 16_384) {
    const piece = body.subarray(at, at + 16_384)
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(parts)
}

interface Parsed {
  status: number
  headers: Record<string, string>
  body: unknown
}

/** Parse one HTTP/1.1 response once it is complete (or, at close, whatever arrived). */
export function parseResponse(bytes: Buffer, closed = false): Parsed | null {
  const end = bytes.indexOf('\r\n\r\n')
  if (end === -1) return null
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1])
  if (!Number.isInteger(status)) return null
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  let payload = bytes.subarray(end + 4)
  const length = headers['content-length']
  if (length !== undefined) {
    if (payload.length < Number(length) && !closed) return null
    payload = payload.subarray(0, Number(length))
  } else if (headers['transfer-encoding'] === 'chunked') {
    const body = dechunk(payload)
    if (body === null && !closed) return null
    payload = body ?? Buffer.alloc(0)
  } else if (!closed) {
    return null
  }
  let body: unknown = payload.toString('utf8')
  if (/json/.test(headers['content-type'] ?? '')) {
    try {
      body = JSON.parse(body as string)
    } catch {
      // leave the text
    }
  }
  return { status, headers, body }
}

function dechunk(bytes: Buffer): Buffer | null {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = bytes.indexOf('\r\n', at)
    if (eol === -1) return null
    const size = Number.parseInt(bytes.subarray(at, eol).toString('latin1'), 16)
    if (size === 0) return Buffer.concat(parts)
    if (eol + 2 + size + 2 > bytes.length) return null
    parts.push(bytes.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}
