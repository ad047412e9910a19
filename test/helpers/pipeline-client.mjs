// A client that pipelines a request behind a body the server refuses, run in a process of
// its own (in the server's process, the client's steps interleave with the server's, which
// hides the race under test).
//
//   node pipeline-client.mjs '{"port":1,"host":"127.0.0.1","tls":true,"head":"<base64>",
//                              "rest":"<base64>"}'
//
// Writes `head`, waits for the answer, then writes `rest` (the rest of the body and the
// pipelined request) at once, and a byte every 50 ms after it until the server closes the
// connection (a write fails). Prints JSON: `received` (base64), `closedAt` (ms).
import net from 'node:net'
import tls from 'node:tls'

const options = JSON.parse(process.argv[2])
const { port, host } = options
const started = Date.now()
const socket = options.tls
  ? tls.connect({ port, host, rejectUnauthorized: false, allowHalfOpen: true })
  : net.connect({ port, host, allowHalfOpen: true })
const received = []
let answered = false
let ticking
socket.on('error', () => {})
socket.on('data', (data) => {
  received.push(data)
  if (answered || !Buffer.concat(received).includes('\r\n\r\n')) return
  answered = true
  socket.write(Buffer.from(options.rest, 'base64'))
  ticking = setInterval(() => socket.write(' '), 50)
})
socket.on('close', () => {
  clearInterval(ticking)
  const closedAt = Date.now() - started
  process.stdout.write(
    JSON.stringify({ received: Buffer.concat(received).toString('base64'), closedAt }),
  )
  process.exit(0)
})
socket.write(Buffer.from(options.head, 'base64'))
// The server has not closed in time: the test fails on `closedAt`.
setTimeout(() => socket.destroy(), 5000)
