/**
 * HTTP benchmarks: every candidate server in its own child process on 127.0.0.1 (or all in
 * one, `oneProcess`), loaded by autocannon for a fixed duration, in alternating rounds, on
 * each payload.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { bytesLabel, compact, rotation, type Spread, spread, table } from '../lib/stats.js'
import { jsonBody, type Payload } from '../payloads.js'
import type { MemoryReport, ToChild, ToParent } from './server.js'
import { serverKinds, statusQuo } from './servers.js'

export interface HttpSettings {
  readonly rounds: number
  /** Seconds per measured run. */
  readonly duration: number
  /** Seconds of unmeasured load per candidate and payload before the rounds. */
  readonly warmup: number
  readonly connections: number
  /** The server kinds to run (keys of serverKinds); the status quo must be among them. */
  readonly kinds: readonly string[]
  /**
   * All candidates in one child process, on a port each, instead of a process each. Two
   * processes of the same server can differ by up to 13% in CPU per request on a shared VM
   * (the heap and code each one happened to build); in one process every candidate gets the
   * same, and its rounds see the same machine moments, so the ratios between them are
   * steadier. Only the loaded candidate runs in its window (the others sit idle), but all
   * share one heap: what one leaves in the old generation, the next may pay to collect.
   */
  readonly oneProcess?: boolean
}

/** A running candidate, or the reason it could not start. */
export interface Child {
  readonly kind: string
  readonly process: ChildProcess
  readonly port: number | null
  readonly reason?: string
}

const serverEntry = fileURLToPath(new URL('./server.ts', import.meta.url))

/** Start one candidate in a child process and wait until it listens (or refuses). */
export async function startServer(kind: string, limit: number): Promise<Child> {
  const [child] = await startServers([kind], limit)
  return child as Child
}

/**
 * Start candidates in one child process, a port each, and wait until each listens (or
 * refuses). A process none of whose candidates started is stopped.
 */
export function startServers(kinds: readonly string[], limit: number): Promise<Child[]> {
  const child = fork(serverEntry, [kinds.join(','), String(limit)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    const started = new Map<string, Child>()
    const onMessage = (message: ToParent) => {
      if (!('ready' in message)) return
      const { kind } = message
      started.set(
        kind,
        message.ready
          ? { kind, process: child, port: message.port }
          : { kind, process: child, port: null, reason: message.reason },
      )
      if (started.size < kinds.length) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      const children = kinds.map((k) => started.get(k) as Child)
      if (children.every((c) => c.port === null)) child.kill()
      resolve(children)
    }
    const onExit = (code: number | null) =>
      reject(new Error(`server ${kinds.join(',')} exited (${code})`))
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

function ask<K extends 'memory' | 'cpu'>(
  child: Child,
  message: ToChild,
  key: K,
): Promise<Extract<ToParent, Record<K, unknown>>[K]> {
  return new Promise((resolve) => {
    const onMessage = (reply: ToParent) => {
      if (!(key in reply)) return
      child.process.off('message', onMessage)
      resolve((reply as Extract<ToParent, Record<K, unknown>>)[key])
    }
    child.process.on('message', onMessage)
    child.process.send(message)
  })
}

/** Ask a child for its memory figures (see server.ts). */
export function memory(child: Child, message: ToChild): Promise<MemoryReport> {
  return ask(child, message, 'memory')
}

/** The CPU time a child has used so far, in microseconds. */
function cpuTime(child: Child): Promise<number> {
  return ask(child, { cpu: true }, 'cpu')
}

/** Stop a candidate's process (and with it every candidate that shares it). */
export async function stopServer(child: Child): Promise<void> {
  const { process: server } = child
  if (server.exitCode !== null || server.signalCode !== null) return
  const exited = new Promise((resolve) => server.once('exit', resolve))
  if (server.connected) server.disconnect()
  await exited
}

interface Load {
  readonly rps: number
  readonly p99: number
  readonly failures: number
  /** Server CPU time per request, in microseconds. */
  readonly cpu: number
}

async function load(
  child: Child,
  body: Buffer,
  contentType: string,
  seconds: number,
  connections: number,
): Promise<Load> {
  const before = await cpuTime(child)
  const result = await autocannon({
    url: `http://127.0.0.1:${child.port}/orders`,
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
    connections,
    duration: seconds,
    timeout: 30,
  })
  const after = await cpuTime(child)
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpu: (after - before) / Math.max(result.requests.total, 1),
  }
}

/** One candidate on one payload: requests per second and p99 latency over rounds. */
export interface HttpCell {
  readonly kind: string
  readonly label: string
  readonly rps: Spread | null
  readonly p99: Spread | null
  /** Server CPU time per request, in microseconds. */
  readonly cpu: Spread | null
  /** req/s relative to the status quo, computed within each round. */
  readonly ratio: Spread | null
  readonly failures: number
  readonly note?: string
}

export interface HttpRow {
  readonly payload: string
  readonly bytes: number
  readonly cells: readonly HttpCell[]
}

/** Check that a server accepts the payload before timing it: a 4xx is a broken benchmark. */
async function accepts(port: number, body: Buffer, contentType: string): Promise<string | null> {
  const res = await fetch(`http://127.0.0.1:${port}/orders`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  })
  const text = await res.text()
  return res.status === 200 ? null : `answered ${res.status}: ${text.slice(0, 200)}`
}

export async function runHttp(
  sizes: readonly Payload[],
  settings: HttpSettings,
  log: (line: string) => void = () => {},
): Promise<HttpRow[]> {
  const bodies = sizes.map(jsonBody)
  const limit = Math.max(...bodies.map((b) => b.length)) + 1024 * 1024
  const children: Child[] = []
  try {
    // Started together (each child loads tsx and its frameworks), stopped in `finally`.
    const groups = settings.oneProcess ? [settings.kinds] : settings.kinds.map((k) => [k])
    const started = await Promise.allSettled(groups.map((g) => startServers(g, limit)))
    for (const s of started) if (s.status === 'fulfilled') children.push(...s.value)
    for (const s of started) if (s.status === 'rejected') throw s.reason
    const rows: HttpRow[] = []
    for (const [i, payload] of sizes.entries()) {
      const body = bodies[i] as Buffer
      const live: Child[] = []
      const broken = new Map<string, string>()
      for (const child of children) {
        if (child.port === null) continue
        const problem = await accepts(child.port, body, 'application/json')
        if (problem === null) live.push(child)
        else broken.set(child.kind, problem)
      }
      for (const child of live) {
        log(`http warm-up ${payload.name} ${child.kind}`)
        await load(child, body, 'application/json', settings.warmup, settings.connections)
      }
      const runs = new Map<string, Load[]>(live.map((c) => [c.kind, []]))
      const ratios = new Map<string, number[]>(live.map((c) => [c.kind, []]))
      for (let round = 0; round < settings.rounds; round++) {
        const inRound = new Map<string, number>()
        for (const child of rotation(live, round)) {
          log(`http ${payload.name} round ${round + 1}/${settings.rounds} ${child.kind}`)
          const result = await load(
            child,
            body,
            'application/json',
            settings.duration,
            settings.connections,
          )
          runs.get(child.kind)?.push(result)
          inRound.set(child.kind, result.rps)
        }
        const reference = inRound.get(statusQuo)
        for (const [kind, rps] of inRound) {
          if (reference !== undefined) ratios.get(kind)?.push(rps / reference)
        }
      }
      const cells = children.map((child): HttpCell => {
        const label = serverKinds[child.kind]?.label ?? child.kind
        const list = runs.get(child.kind)
        if (list === undefined) {
          const why = child.reason ?? broken.get(child.kind) ?? 'did not run'
          return {
            kind: child.kind,
            label,
            rps: null,
            p99: null,
            cpu: null,
            ratio: null,
            failures: 0,
            note: why,
          }
        }
        return {
          kind: child.kind,
          label,
          rps: spread(list.map((r) => r.rps)),
          p99: spread(list.map((r) => r.p99)),
          cpu: spread(list.map((r) => r.cpu)),
          ratio: spread(ratios.get(child.kind) ?? []),
          failures: list.reduce((n, r) => n + r.failures, 0),
        }
      })
      rows.push({ payload: payload.name, bytes: body.length, cells })
    }
    return rows
  } finally {
    // One stop a process: candidates that share one (`oneProcess`) go with it.
    const byProcess = new Map(children.map((child) => [child.process, child]))
    await Promise.all([...byProcess.values()].map(stopServer))
  }
}

const notBuilt = (reason: string) =>
  /unknown option "mode"/.test(reason) ? 'n/a (report mode not built)' : `n/a (${reason})`

export function httpTables(rows: readonly HttpRow[]): string {
  const out: string[] = []
  for (const row of rows) {
    const cells = [
      [
        'server',
        'req/s',
        'p99 latency',
        'server CPU per request',
        'req/s vs status quo',
        'p99 vs status quo',
      ],
    ]
    const reference = row.cells.find((c) => c.kind === statusQuo)
    for (const c of row.cells) {
      if (c.rps === null || c.p99 === null || c.cpu === null || c.ratio === null) {
        cells.push([c.label, notBuilt(c.note ?? ''), '', '', '', ''])
        continue
      }
      const p99Ratio = reference?.p99 ? (c.p99.median / reference.p99.median).toFixed(2) : 'n/a'
      cells.push([
        c.label + (c.failures > 0 ? ` (${c.failures} failed requests)` : ''),
        `${compact(c.rps.median)} (${compact(c.rps.min)}–${compact(c.rps.max)})`,
        `${c.p99.median.toFixed(1)} ms (${c.p99.min}–${c.p99.max})`,
        `${c.cpu.median.toFixed(0)} µs (${c.cpu.min.toFixed(0)}–${c.cpu.max.toFixed(0)})`,
        c.kind === statusQuo
          ? '1.00x'
          : `**${c.ratio.median.toFixed(2)}x** (${c.ratio.min.toFixed(2)}–${c.ratio.max.toFixed(2)})`,
        `${p99Ratio}x`,
      ])
    }
    out.push(`#### ${row.payload} (${bytesLabel(row.bytes)})\n\n${table(cells)}`)
  }
  return out.join('\n\n')
}
