import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, it, vi } from 'vitest'
import { closeUnread } from '../../src/core/connection.js'

// closeUnread on a request whose body has not fully arrived: the header it sets, by HTTP
// version. (What the client sees is tested through real servers in the adapter and linger
// tests; Node's HTTP/2 compatibility layer drops a Connection header, warning once a process,
// so only the call itself can show it.)
function refused(httpVersionMajor: number) {
  const socket = { destroy: vi.fn() }
  const req = { complete: false, httpVersionMajor, socket } as unknown as IncomingMessage
  const res = Object.assign(new EventEmitter(), {
    headersSent: false,
    setHeader: vi.fn(),
  }) as unknown as ServerResponse & { setHeader: ReturnType<typeof vi.fn> }
  closeUnread(req, res)
  return res
}

describe('closeUnread', () => {
  it('answers an HTTP/1.1 refusal with Connection: close', () => {
    expect(refused(1).setHeader).toHaveBeenCalledWith('Connection', 'close')
  })

  it('sets no connection-specific header on HTTP/2 (RFC 9113, 8.2.2)', () => {
    expect(refused(2).setHeader).not.toHaveBeenCalled()
  })
})
