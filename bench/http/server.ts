/**
 * Child process entry: start one candidate server on 127.0.0.1, report its port (or why it
 * cannot start) over IPC, and answer memory questions from the parent.
 *
 *   node --import tsx bench/http/server.ts <kind> <limit-bytes>
 */
import type { AddressInfo } from 'node:net'
import { serverKinds } from './servers.js'

export type ToParent =
  | { readonly ready: true; readonly port: number }
  | { readonly ready: false; readonly reason: string }
  | { readonly memory: MemoryReport }
  | { readonly cpu: number }

export type ToChild = { readonly mark: true } | { readonly report: true } | { readonly cpu: true }

/** Resident memory in bytes: at the mark, and the highest seen since. */
export interface MemoryReport {
  readonly baseline: number
  readonly peak: number
}

const send = (message: ToParent) => process.send?.(message)
const [kind = '', limitArg = ''] = process.argv.slice(2)
const entry = serverKinds[kind]

// Resident memory, sampled often, plus the kernel's own high-water mark (maxRSS), which
// catches a peak that falls between two samples.
let baseline = process.memoryUsage.rss()
let sampled = baseline
let maxAtMark = process.resourceUsage().maxRSS * 1024
const sampler = setInterval(() => {
  sampled = Math.max(sampled, process.memoryUsage.rss())
}, 5)
sampler.unref()

process.on('message', (message: ToChild) => {
  if ('cpu' in message) {
    // CPU time the server has spent, in microseconds: per request, it is a cost figure that
    // time spent descheduled on a busy machine does not inflate.
    const { user, system } = process.cpuUsage()
    send({ cpu: user + system })
  } else if ('mark' in message) {
    baseline = process.memoryUsage.rss()
    sampled = baseline
    maxAtMark = process.resourceUsage().maxRSS * 1024
    send({ memory: { baseline, peak: baseline } })
  } else {
    const max = process.resourceUsage().maxRSS * 1024
    send({ memory: { baseline, peak: max > maxAtMark ? max : sampled } })
  }
})
process.on('disconnect', () => process.exit(0))

async function main() {
  if (entry === undefined) throw new Error(`unknown server kind "${kind}"`)
  let server: Awaited<ReturnType<typeof entry.start>>
  try {
    server = await entry.start({ limit: Number(limitArg) })
  } catch (err) {
    // A candidate that needs a feature this build lacks (report mode) says so, no numbers.
    send({ ready: false, reason: err instanceof Error ? err.message : String(err) })
    return
  }
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => {
    send({ ready: true, port: (server.address() as AddressInfo).port })
  })
}

main().catch((err: unknown) => {
  send({ ready: false, reason: err instanceof Error ? err.message : String(err) })
})
