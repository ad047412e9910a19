import { afterEach, describe, expect, it, vi } from 'vitest'
import { Deadline, settleBy, unwatch, watch } from '../../src/core/deadline.js'

class Read extends Deadline {
  expired = 0
  constructor(
    expiresAt: number,
    private readonly onExpire: () => void = () => undefined,
  ) {
    super()
    this.expiresAt = expiresAt
  }

  expire(): void {
    this.expired++
    this.onExpire()
  }
}

describe('read deadlines on one shared sweep', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('expires exactly the reads past their time, once each, whatever was unwatched around them', () => {
    vi.useFakeTimers()
    const now = Date.now()
    const reads = [0, 1, 2, 3, 4].map((i) => new Read(now + (i % 2 === 0 ? 100 : 10_000)))
    for (const read of reads) watch(read, 1000)
    watch(reads[0] as Read, 1000) // watching twice links it once
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
    const later = new Read(now + 50)
    const other = new Read(now + 50)
    // Watched last, so swept first: its expiry ends `other`, which must not expire too.
    const ending = new Read(now + 50, () => unwatch(other))
    watch(later, 100)
    watch(other, 100)
    watch(ending, 100)
    vi.advanceTimersByTime(200)
    expect([ending.expired, other.expired, later.expired]).toEqual([1, 0, 1])
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
