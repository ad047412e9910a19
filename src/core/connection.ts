import type { IncomingMessage, ServerResponse } from 'node:http'
import { constants, type Http2Stream } from 'node:http2'
import type { Socket } from 'node:net'

// How long a refused connection stays open after its answer, so that a client still sending
// reads the answer before the connection is reset (RFC 9112, section 9.6; Go's server waits
// 500 ms the same way, its `rstAvoidanceDelay`).
const LINGER_MS = 1000

/**
 * When a request is refused before its body fully arrived, answer with `Connection: close`
 * and have the socket closed after the response, instead of draining what is left: a body
 * refused unread is never read. Every adapter on node:http calls it with its refusal.
 *
 * Closing a socket with bytes unread makes the kernel reset the connection, and a reset
 * discards, on the client's side, the answer it has not read yet: a client still uploading
 * would get EPIPE or ECONNRESET instead of its 413 or 408. So on HTTP/1 the connection is
 * closed in stages (`stopReading`, then `lingeringClose`); on HTTP/2 the request's stream
 * alone is closed once the answer is written; elsewhere (a fake request, as fastify's
 * inject() makes) the socket is cut `LINGER_MS` after the response.
 */
export function closeUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || res.headersSent) return
  if (connectionHeaders(req)) res.setHeader('Connection', 'close')
  const socket = req.socket as Partial<Socket> | null | undefined
  // On HTTP/2, `req.socket` stands for the whole session, shared with other streams.
  if (req.httpVersionMajor === 1 && typeof socket?.destroySoon === 'function') {
    stopReading(socket as Socket)
    socket.destroySoon = lingeringClose
    return
  }
  // HTTP/2 (Node's compatibility API): the response emits 'finish' only once its stream has
  // closed, which a client still sending never lets happen. Once the answer is written, the
  // stream is closed with RST_STREAM NO_ERROR, which asks the client to stop sending and
  // keeps the answer (RFC 9113, 8.1); the session and its other streams go on. Node destroys
  // a stream once its read side has ended too, which the bytes already buffered (up to the
  // stream's window) would stop for good, and with the stream its session and socket, even
  // after the client leaves: with no more to come, those are dropped.
  const stream = (res as { stream?: Partial<Http2Stream> }).stream
  if (req.httpVersionMajor === 2 && typeof stream?.close === 'function') {
    stream.once?.('finish', () => {
      stream.close?.(constants.NGHTTP2_NO_ERROR)
      setImmediate(() => req.resume())
    })
    return
  }
  res.once('finish', () => {
    // fastify's inject() (light-my-request) and other fakes give a socket without destroy.
    const cut = () => {
      if (typeof socket?.destroy === 'function') socket.destroy()
    }
    setTimeout(cut, LINGER_MS).unref()
  })
}

/**
 * False on HTTP/2, which has no connection-specific headers (RFC 9113, 8.2.2): Node drops a
 * `Connection` header there, with a warning on the process. Every adapter asks before
 * setting one.
 */
export function connectionHeaders(req: { readonly httpVersionMajor: number }): boolean {
  return req.httpVersionMajor < 2
}

/**
 * Stop reading a refused request's socket, from the refusal on: Node's parser is fed nothing
 * more, so no request pipelined behind the refused body is parsed, and none is run, however
 * long the answer takes (an error handler that waits, a client that sends the rest as soon as
 * it sees the answer). The socket stays paused whoever would resume it: Node's server to drain
 * the body after the response, an application reading `req`. Its readable side is marked as
 * done, so that Node does not resume it and Express's final handler (on-finished) sees the
 * request as finished and answers at once, instead of draining the body first (unbounded).
 */
function stopReading(socket: Socket): void {
  socket.pause()
  socket.resume = stayPaused
  socket.readable = false
}

/**
 * Node's HTTP server closes a `Connection: close` response's socket with `destroySoon()` once
 * the response is written; on a refused request's socket it is this instead. The socket was
 * paused at the refusal (`stopReading`); it ends its side after the answer, and is closed
 * `LINGER_MS` later, or when it closes first. A client reading while it sends, as Node's
 * http client, fetch and curl do, has its answer by then; one that reads only after sending
 * all its body (Python's http.client) still loses it to the reset when that body is more
 * than the kernels' buffers hold.
 */
function lingeringClose(this: Socket): void {
  this.destroySoon = noop
  // A stream whose readable side is done is destroyed as soon as its writable side finishes.
  this.readable = true
  if (this.writable) this.end()
  const timer = setTimeout(() => this.destroy(), LINGER_MS)
  timer.unref()
  this.once('close', () => clearTimeout(timer))
}

function stayPaused(this: Socket): Socket {
  return this
}

function noop(): void {}

/**
 * Run `answer` once the bytes already received have been parsed. Node's HTTP parser takes a
 * whole read off the socket at once, and hands a request on when its headers are parsed,
 * before the body that came in the same read: a refusal decided there (415, 401, 413 from
 * Content-Length) would find the body unfinished, close the connection, and so drop the
 * responses of requests pipelined behind it, whose handlers Node has already run. Microtasks
 * run between the parser's steps; `setImmediate` runs after the whole read (where there is
 * none, as on a Web runtime without Node's parser, a microtask does). When the body is still
 * to come, waiting changes nothing.
 */
export const afterParse: (answer: () => void) => void =
  typeof setImmediate === 'function'
    ? (answer) => {
        setImmediate(answer)
      }
    : queueMicrotask

/**
 * Connect-style: pass the refusal to `next` once the bytes received are parsed, closing the
 * connection if the body is still arriving.
 */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  next: (err: unknown) => void,
  err: unknown,
): void {
  afterParse(() => {
    closeUnread(req, res)
    next(err)
  })
}
