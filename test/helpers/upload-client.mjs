// A client still sending a body the server refuses, run in a process of its own: in the
// server's process, the client's reads interleave with the server's steps, so the server's
// close never overtakes an answer the client has not read yet (the race under test).
//
//   node upload-client.mjs '{"port":1,"host":"127.0.0.1","path":"/x","declared":1,
//                            "chunk":65536,"paceMs":0,"sendMs":5000}'
//
// POSTs to `path` declaring `declared` bytes, then writes chunks of `chunk` bytes, each once
// the socket takes it and `paceMs` apart, until `sendMs` pass or a write fails, reading the
// answer as it comes; it goes on sending after the server has ended its side (half-open),
// a byte every 50 ms once the body is sent, until the server closes. Prints JSON:
// `received` (base64), `closedAt` (ms after the start), `sent` (body bytes written).
import net from 'node:net'

const { port, host, path, declared, chunk: size, paceMs, sendMs } = JSON.parse(process.argv[2])
const chunk = Buffer.alloc(size, 0x20)
const head = Buffer.from(
  `POST ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\n` +
    `content-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`,
)
const started = Date.now()
const socket = net.connect({ port, host, allowHalfOpen: true })
const received = []
let closedAt = null
let stopped = false
let sent = 0
socket.on('data', (data) => received.push(data))
socket.on('error', () => {
  stopped = true
})
socket.on('close', () => {
  closedAt ??= Date.now() - started
  stopped = true
  const result = { received: Buffer.concat(received).toString('base64'), closedAt, sent }
  process.stdout.write(JSON.stringify(result))
  process.exit(0)
})
const drained = () =>
  new Promise((next) => {
    const go = () => {
      socket.off('drain', go)
      socket.off('close', go)
      next()
    }
    socket.on('drain', go)
    socket.on('close', go)
  })
// Written at once: before the connection is made, Node queues the head and the first chunk
// and sends them together once it is, as its http client and fetch send a Buffer body.
socket.write(head)
while (!stopped && sent < declared && Date.now() - started < sendMs) {
  const piece = chunk.subarray(0, Math.min(chunk.length, declared - sent))
  sent += piece.length
  if (!socket.write(piece)) await drained()
  if (paceMs > 0) await new Promise((next) => setTimeout(next, paceMs))
}
// A client done sending does not see the server close unless it writes: a byte every 50 ms.
const ticking = setInterval(() => socket.write(' '), 50)
socket.on('close', () => clearInterval(ticking))
// The server has not closed in time: the test fails on `closedAt`.
setTimeout(() => socket.destroy(), sendMs)
