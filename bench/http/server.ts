/**
 * Child process entry: start candidate servers on 127.0.0.1, one port each, report each
 * port (or why it cannot start) over IPC, and answer memory and CPU questions from the
 * parent. One kind is one candidate alone in its process; several (comma-separated) share
 * it, for `--one-process` (see run.ts).
 *
 *   node --import tsx bench/http/server.ts <kind>[,<kind>...] <limit-bytes>
 */
import type { AddressInfo } from 'node:net'
import { serverKinds } from './servers.js'

export type ToParent =
  | { readonly ready: true; readonly kind: string; readonly port: number }
  | { readonly ready: false; readonly kind: string; readonly reason: string }
  | { readonly memory: MemoryReport }
  | { readonly cpu: number }

export type ToChild = { readonly mark: true } | { readonly report: true } | { readonly cpu: true }

/** Resident memory in bytes: at the mark, and the highest seen since. */
export interface MemoryReport {
  readonly baseline: number
  readonly peak: number
}

const send = (message: ToParent) => process.send?.(message)
const [kindList = '', limitArg = ''] = process.argv.slice(2)

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

async function start(kind: string): Promise<void> {
  const entry = serverKinds[kind]
  let server: Awaited<ReturnType<NonNullable<typeof entry>['start']>>
  try {
    if (entry === undefined) throw new Error(`unknown server kind "${kind}"`)
    server = await entry.start({ limit: Number(limitArg) })
  } catch (err) {
    // A candidate that needs a feature this build lacks (report mode) says so, no numbers.
    send({ ready: false, kind, reason: err instanceof Error ? err.message : String(err) })
    return
  }
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  send({ ready: true, kind, port: (server.address() as AddressInfo).port })
}

async function main() {
  for (const kind of kindList.split(',')) await start(kind)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
