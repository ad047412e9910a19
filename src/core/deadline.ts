/**
 * Read deadlines, checked by one shared sweep instead of a timer per request: a read in
 * flight is linked into a list (two pointer writes to add, two to remove; nothing allocated,
 * nothing hashed), and one unref'd interval runs while any is pending. A read is refused
 * between `timeout` and `timeout` plus one sweep (an eighth of the shortest timeout in
 * flight, 5 ms to 1 s) after it started. An async validator's answer is awaited on the same
 * sweep (`settleBy`).
 */

/** A read (or a validation) that can run out of time. The links belong to this module. */
export abstract class Deadline {
  /** `Date.now()` past which the read has failed. */
  expiresAt = 0
  watched = false
  prevDeadline: Deadline | null = null
  nextDeadline: Deadline | null = null
  abstract expire(): void
}

let first: Deadline | null = null
let timer: ReturnType<typeof setInterval> | null = null
let every = Infinity

/** Start watching `deadline`, whose read may take `timeout` ms. */
export function watch(deadline: Deadline, timeout: number): void {
  if (deadline.watched) return
  deadline.watched = true
  deadline.nextDeadline = first
  if (first !== null) first.prevDeadline = deadline
  first = deadline
  const sweep = Math.min(1000, Math.max(5, Math.floor(timeout / 8)))
  if (timer !== null && sweep >= every) return
  if (timer !== null) clearInterval(timer)
  every = sweep
  timer = setInterval(sweepExpired, sweep)
  timer.unref()
}

/** Stop watching: the read ended. Nothing happens for a deadline not watched. */
export function unwatch(deadline: Deadline): void {
  if (!deadline.watched) return
  deadline.watched = false
  const { prevDeadline: prev, nextDeadline: next } = deadline
  if (prev === null) first = next
  else prev.nextDeadline = next
  if (next !== null) next.prevDeadline = prev
  deadline.prevDeadline = deadline.nextDeadline = null
}

function sweepExpired(): void {
  if (first === null) {
    clearInterval(timer as ReturnType<typeof setInterval>)
    timer = null
    every = Infinity
    return
  }
  const now = Date.now()
  let deadline: Deadline | null = first
  while (deadline !== null) {
    const next: Deadline | null = deadline.nextDeadline
    if (deadline.expiresAt <= now) {
      unwatch(deadline)
      // What expiring sets off may end other reads: if it unlinked the next one, the reads
      // after that wait for the next sweep.
      deadline.expire()
    }
    deadline = next !== null && next.watched ? next : null
  }
}

/**
 * Wait for `pending` until `expiresAt`, on the same sweep: exactly one of `settled` and
 * `failed` is called, with its outcome, or `failed(expired())` once the time is up. An
 * outcome after that is dropped (a rejection too: it is handled, never unhandled).
 */
export function settleBy<T>(
  pending: PromiseLike<T>,
  expiresAt: number,
  timeout: number,
  expired: () => unknown,
  settled: (value: T) => void,
  failed: (err: unknown) => void,
): void {
  let open = true
  const deadline = new Settling(expiresAt, () => {
    open = false
    failed(expired())
  })
  watch(deadline, timeout)
  pending.then(
    (value) => {
      if (!open) return
      open = false
      unwatch(deadline)
      settled(value)
    },
    (err: unknown) => {
      if (!open) return
      open = false
      unwatch(deadline)
      failed(err)
    },
  )
}

class Settling extends Deadline {
  constructor(
    expiresAt: number,
    private readonly onExpire: () => void,
  ) {
    super()
    this.expiresAt = expiresAt
  }

  expire(): void {
    this.onExpire()
  }
}
