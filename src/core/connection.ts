import type { IncomingMessage, ServerResponse } from 'node:http'

// How long a refused connection may stay open to deliver the response before it is cut, where
// nothing else closes it: on HTTP/1, Node's server closes a `Connection: close` response's
// socket itself as soon as the response is written (its destroySoon()).
const LINGER_MS = 1000

/**
 * When a request is refused before its body fully arrived, answer with `Connection: close`
 * and have the socket closed after the response, instead of draining what is left: a body
 * refused unread is never read. Every adapter on node:http calls it with its refusal.
 */
export function closeUnread(req: IncomingMessage, res: ServerResponse): void {
  if (!req.complete && !res.headersSent) {
    res.setHeader('Connection', 'close')
    res.once('finish', () => {
      // fastify's inject() (light-my-request) and other fakes give a socket without destroy.
      const cut = () => {
        const socket = req.socket as Partial<IncomingMessage['socket']> | null | undefined
        if (typeof socket?.destroy === 'function') socket.destroy()
      }
      setTimeout(cut, LINGER_MS).unref()
    })
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
