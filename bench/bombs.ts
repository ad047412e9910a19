/**
 * Bombs: 100 concurrent clients send gzip bodies that inflate to 10 MB at a safeBody server
 * with a 100 kb limit, and the server's resident memory is watched: it must stay bounded,
 * since every body is cut off at the limit while it inflates.
 */
import { request } from 'node:http'
import { gzipSync } from 'node:zlib'
import { memory, startServer, stopServer } from './http/run.js'
import { bytesLabel, table } from './lib/stats.js'

export interface BombSettings {
  readonly clients: number
  /** Seconds of continuous bombing. */
  readonly duration: number
  /** Inflated size of each bomb, in bytes. */
  readonly inflated: number
}

export interface BombResult {
  readonly clients: number
  readonly sent: number
  readonly statuses: Readonly<Record<string, number>>
  readonly compressed: number
  readonly inflated: number
  readonly baseline: number
  readonly peak: number
  readonly seconds: number
}

/** A 10 MB JSON-looking body (a string of spaces in an array) gzipped to a few KB. */
function bomb(inflated: number): Buffer {
  const text = `[${' '.repeat(inflated - 2)}]`
  return gzipSync(text, { level: 9 })
}

function send(port: number, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/orders',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': body.length,
        },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(String(res.statusCode)))
        res.on('error', () => resolve('reset'))
      },
    )
    // The server may cut the connection once it has refused: that is an answer too.
    req.on('error', () => resolve('reset'))
    req.end(body)
  })
}

export async function runBombs(
  settings: BombSettings,
  log: (line: string) => void = () => {},
): Promise<BombResult> {
  const body = bomb(settings.inflated)
  const child = await startServer('safeBody', 100 * 1024)
  if (child.port === null) throw new Error(`the bomb server did not start: ${child.reason}`)
  try {
    const port = child.port
    // Warm the server with a few bombs, so the baseline includes a loaded zlib and JIT.
    await Promise.all(Array.from({ length: 10 }, () => send(port, body)))
    const { baseline } = await memory(child, { mark: true })
    log(`bombs: ${settings.clients} clients, ${settings.duration} s`)
    const statuses: Record<string, number> = {}
    let sent = 0
    const until = performance.now() + settings.duration * 1000
    const started = performance.now()
    await Promise.all(
      Array.from({ length: settings.clients }, async () => {
        while (performance.now() < until) {
          const status = await send(port, body)
          statuses[status] = (statuses[status] ?? 0) + 1
          sent++
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000
    const { peak } = await memory(child, { report: true })
    return {
      clients: settings.clients,
      sent,
      statuses,
      compressed: body.length,
      inflated: settings.inflated,
      baseline,
      peak,
      seconds,
    }
  } finally {
    await stopServer(child)
  }
}

export function bombTable(r: BombResult): string {
  const answers = Object.entries(r.statuses)
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ')
  return table([
    ['clients', 'bomb', 'bombs sent', 'answers', 'RSS at start', 'peak RSS', 'peak growth'],
    [
      String(r.clients),
      `${bytesLabel(r.compressed)} gzip → ${bytesLabel(r.inflated)}`,
      `${r.sent} in ${r.seconds.toFixed(1)} s`,
      answers,
      bytesLabel(r.baseline),
      bytesLabel(r.peak),
      `**${bytesLabel(Math.max(0, r.peak - r.baseline))}**`,
    ],
  ])
}
