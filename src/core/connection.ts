import type { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'

// How long a refused connection stays open after its response, reading and dropping what the
// client still sends, and how much of its body is read so, before it is closed.
const LINGER_MS = 1000
const LINGER_BYTES = 8 * 1024 * 1024

/**
 * When a request is refused before its body fully arrived, answer with `Connection: close`
 * and close the connection after the response, instead of draining what is left: a body
 * refused unread is never read to its end. Every adapter on node:http calls it with its
 * refusal.
 *
 * Closed in stages (RFC 9112, 9.6), so that a client still sending gets the refusal: a close
 * with bytes unread makes the kernel answer them with a reset, which discards the response
 * on the client's side before most clients (Node's http, fetch) read it; they report EPIPE
 * or ECONNRESET instead. So the rest of the body is read and dropped from the refusal on (at
 * most LINGER_BYTES), and after the response the server ends its side and closes once the
 * client has sent the rest of its request or closed its side, or LINGER_MS have passed.
 */
export function closeUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || res.headersSent) return
  res.setHeader('Connection', 'close')
  const socket = req.socket as Partial<Socket> | null | undefined
  // HTTP/2's compatibility request has a proxy for a socket: its destroy() closes the
  // request's stream, but what is set on it is set on the session's socket, which other
  // requests share. It is left to the fallback below.
  if (req.httpVersionMajor === 1 && socket instanceof Socket) return linger(req, socket)
  // HTTP/2 (its stream), or fastify's inject() (light-my-request) and other fakes: cut after
  // the response, where there is a destroy to cut with.
  res.once('finish', () => {
    const cut = () => {
      if (typeof socket?.destroy === 'function') socket.destroy()
    }
    setTimeout(cut, LINGER_MS).unref()
  })
}

/**
 * Drop the rest of `req`'s body as it comes (LINGER_BYTES at most), and close `socket` in
 * stages once the response is written.
 */
function linger(req: IncomingMessage, socket: Socket): void {
  let left = LINGER_BYTES
  let ending = false
  let closing = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const close = () => {
    if (closing) return
    closing = true
    clearTimeout(timer)
    // Once the response is written: a close drops what the socket has not written yet.
    if (socket.writableFinished) socket.destroy()
    else socket.once('finish', () => socket.destroy())
  }
  // Every other listener of the body's chunks goes, as when Node drops a body nobody read
  // (`IncomingMessage._dump`): the refused reader keeps nothing, and a Web stream made of the
  // message (`Readable.toWeb`, on @hono/node-server) would pause it again once its queue is
  // full. A listener of ours also keeps Node from dropping the body itself, uncounted.
  req.removeAllListeners('data')
  req.on('data', (chunk: Buffer) => {
    left -= chunk.length
    if (left >= 0) return
    // Too much: until the response is written, no more is read; after it, the end.
    if (ending) close()
    else req.pause()
  })
  req.resume()
  // Node's server ends the socket of a response sent with `Connection: close` by calling
  // its destroySoon(), which closes it as soon as the response is written: this socket's
  // own one ends it and waits. Once: a framework that calls it again (@hono/node-server,
  // after its own drain) finds it waiting already.
  socket.destroySoon = () => {
    if (ending || socket.destroyed) return
    ending = true
    socket.end()
    // Nothing more comes: the request's last byte, or the client ended its side. Or too much.
    if (req.readableEnded || left < 0) return close()
    req.once('end', close)
    socket.once('end', close)
    timer = setTimeout(close, LINGER_MS)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
  }
}

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
