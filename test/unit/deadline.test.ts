import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Deadline } from '../../src/core/deadline.js'

// The sweep is one per process: each test takes a fresh copy of the module, whose sweep
// starts on the fake clock, whatever sweep an earlier test file in the same worker left
// running on the real one (vitest runs a worker's files in one process: vitest.config.ts).
// The files after this one import their own copy too, never one swept on the fake clock.
let { settleBy, unwatch, watch } = await import('../../src/core/deadline.js')
beforeEach(async () => {
  vi.resetModules()
  ;({ settleBy, unwatch, watch } = await import('../../src/core/deadline.js'))
})
afterAll(() => {
  vi.resetModules()
})

class Read implements Deadline {
  expired = 0
  watched = false
  prevDeadline: Deadline | null = null
  nextDeadline: Deadline | null = null
  constructor(
    public expiresAt: number,
    private readonly onExpire: () => void = () => undefined,
    readonly timeout = 1000,
  ) {}

  expire(): void {
    this.expired++
    this.onExpire()
  }
}

/**
 * Advance the fake clock a millisecond at a time until `read` expires: how long after
 * `started` it did, or -1 if not within `max` ms.
 */
function expiresAfter(read: Read, started: number, max: number): number {
  for (let ms = 1; ms <= max; ms++) {
    vi.advanceTimersByTime(1)
    if (read.expired === 1) return Date.now() - started
  }
  return -1
}

describe('read deadlines on one shared sweep', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('expires exactly the reads past their time, once each, whatever was unwatched around them', () => {
    vi.useFakeTimers()
    const now = Date.now()
    const reads = [0, 1, 2, 3, 4].map((i) => new Read(now + (i % 2 === 0 ? 100 : 10_000)))
    for (const read of reads) watch(read)
    watch(reads[0] as Read) // watching twice links it once
    unwatch(reads[2] as Read) // from the middle
    unwatch(reads[2] as Read) // twice: nothing happens
    unwatch(new Read(now)) // never watched: nothing happens
    vi.advanceTimersByTime(400)
    expect(reads.map((r) => r.expired)).toEqual([1, 0, 0, 0, 1])
    vi.advanceTimersByTime(20_000)
    expect(reads.map((r) => r.expired)).toEqual([1, 1, 0, 1, 1])
    for (const read of reads) unwatch(read)
  })

  it('keeps sweeping the rest when an expiry ends other reads', () => {
    vi.useFakeTimers()
    const now = Date.now()
    const later = new Read(now + 50, undefined, 100)
    const other = new Read(now + 50, undefined, 100)
    // Watched last, so swept first: its expiry ends `other`, which must not expire too.
    const ending = new Read(now + 50, () => unwatch(other), 100)
    watch(later)
    watch(other)
    watch(ending)
    vi.advanceTimersByTime(200)
    expect([ending.expired, other.expired, later.expired]).toEqual([1, 0, 1])
  })

  // A read is not timed when it starts: the first sweep after it gives it its deadline.
  it.each([0, 3, 12, 24])(
    'refuses an untimed read no sooner than its timeout, and within two sweeps of it (started %i ms after a sweep)',
    (offset) => {
      vi.useFakeTimers()
      // A timeout of 200 ms: a sweep every 25 ms, started by the first read watched.
      const pacer = new Read(Date.now() + 60_000, undefined, 200)
      watch(pacer)
      vi.advanceTimersByTime(25 + offset)
      const read = new Read(0, undefined, 200)
      const started = Date.now()
      watch(read)
      const expiredAfter = expiresAfter(read, started, 400)
      expect(expiredAfter).toBeGreaterThanOrEqual(200)
      expect(expiredAfter).toBeLessThanOrEqual(200 + 2 * 25)
      expect(read.expired).toBe(1)
      unwatch(pacer)
      // The sweep stops itself once nothing is watched: the next test starts its own.
      vi.advanceTimersByTime(1000)
    },
  )

  // Watching a read with a shorter timeout restarts the sweep, which would put off the first
  // sweep of a read that has not been timed yet: such reads are timed at the restart.
  it('times the reads not yet timed when a shorter timeout restarts the sweep', () => {
    vi.useFakeTimers()
    // A timeout of 800 ms: a sweep every 100 ms.
    const pacer = new Read(Date.now() + 60_000, undefined, 800)
    watch(pacer)
    vi.advanceTimersByTime(100 + 5)
    const read = new Read(0, undefined, 800)
    const started = Date.now()
    watch(read)
    // Just before the sweep that would have timed it, shorter timeouts restart the sweep.
    vi.advanceTimersByTime(90)
    const shorter = new Read(Date.now() + 60_000, undefined, 700)
    watch(shorter)
    vi.advanceTimersByTime(80)
    const shortest = new Read(Date.now() + 60_000, undefined, 600)
    watch(shortest)
    const expiredAfter = expiresAfter(read, started, 1200)
    expect(expiredAfter).toBeGreaterThanOrEqual(800)
    expect(expiredAfter).toBeLessThanOrEqual(800 + 2 * 100)
    for (const other of [pacer, shorter, shortest]) unwatch(other)
    vi.advanceTimersByTime(1000)
  })

  it('settles an answer in time, refuses a late one and drops what comes after', async () => {
    vi.useFakeTimers()
    const outcomes: string[] = []
    let answer: (v: string) => void = () => undefined
    settleBy(
      new Promise<string>((resolve) => (answer = resolve)),
      Date.now() + 100,
      100,
      () => 'late',
      (v) => outcomes.push(`settled ${v}`),
      (e) => outcomes.push(`failed ${String(e)}`),
    )
    settleBy(
      Promise.resolve('now'),
      Date.now() + 100,
      100,
      () => 'late',
      (v) => outcomes.push(`settled ${v}`),
      (e) => outcomes.push(`failed ${String(e)}`),
    )
    await vi.advanceTimersByTimeAsync(300)
    answer('too late')
    await Promise.resolve()
    expect(outcomes).toEqual(['settled now', 'failed late'])
  })
})
