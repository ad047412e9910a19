import type { IncomingMessage, ServerResponse } from 'node:http'

// How long a refused connection may stay open to deliver the response before it is cut.
const LINGER_MS = 1000

/**
 * When a request is refused before its body fully arrived, answer with `Connection: close`
 * and cut the socket shortly after the response, instead of draining what is left: a body
 * refused unread is never read. Every adapter on node:http calls it with its refusal.
 */
export function closeUnread(req: IncomingMessage, res: ServerResponse): void {
  if (!req.complete && !res.headersSent) {
    res.setHeader('Connection', 'close')
    res.once('finish', () => {
      setTimeout(() => req.socket?.destroy(), LINGER_MS).unref()
    })
  }
}

/** Connect-style: pass the refusal to `next`, closing the connection if the body is still arriving. */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  next: (err: unknown) => void,
  err: unknown,
): void {
  closeUnread(req, res)
  next(err)
}
