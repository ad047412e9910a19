/**
 * Read deadlines, checked by one shared sweep instead of a timer per request: a read in
 * flight is linked into a list (two pointer writes to add, two to remove; nothing allocated,
 * nothing hashed), and one unref'd interval runs while any is pending. A read is not timed
 * when it starts: the first sweep that sees it gives it its deadline, from the sweep's own
 * clock, so that a read ending before then (almost every one) never reads the clock. It is
 * refused between `timeout` and `timeout` plus two sweeps (a sweep is an eighth of the
 * shortest timeout in flight, 5 ms to 1 s) after it started, never before. An async
 * validator's answer is awaited on the same sweep (`settleBy`).
 */

/**
 * A read (or a validation) that can run out of time. A plain interface, not a base class:
 * constructing a derived class cost 0.28 us a request on Node 20 (V8's
 * FindNonDefaultConstructorOrConstruct, in a perf profile of the fastify yardstick). The
 * fields belong to this module; an implementer starts them at `UNTIMED` (or the time it must
 * end by), false and null.
 */
export interface Deadline {
  /** `Date.now()` past which it has failed; `UNTIMED` (0) until a sweep after `watch` sets it. */
  expiresAt: number
  /**
   * How long (ms) it may take, counted from the sweep that sets `expiresAt`; for one watched
   * with its `expiresAt` set, only how often the sweep runs (an eighth of it).
   */
  readonly timeout: number
  watched: boolean
  prevDeadline: Deadline | null
  nextDeadline: Deadline | null
  expire(): void
}

/** The `expiresAt` of a deadline no sweep has timed yet. */
export const UNTIMED = 0

let first: Deadline | null = null
let timer: ReturnType<typeof setInterval> | null = null
let every = Infinity

/**
 * Start watching `deadline`: it expires at its `expiresAt`, or, where that is `UNTIMED`,
 * `timeout` ms after the next sweep (or after now, if watching it makes the sweep restart).
 */
export function watch(deadline: Deadline): void {
  if (deadline.watched) return
  deadline.watched = true
  deadline.nextDeadline = first
  if (first !== null) first.prevDeadline = deadline
  first = deadline
  const sweep = Math.min(1000, Math.max(5, Math.floor(deadline.timeout / 8)))
  if (timer !== null && sweep >= every) return
  if (timer !== null) {
    clearInterval(timer)
    // Restarting puts the next sweep off: the reads waiting for one to time them are timed now.
    timeUntimed(Date.now())
  }
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

/** Give every read not timed yet its deadline, counted from `now`. */
function timeUntimed(now: number): void {
  for (let at = first; at !== null; at = at.nextDeadline) {
    if (at.expiresAt === UNTIMED) at.expiresAt = now + at.timeout
  }
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
    // Started since the last sweep: its time runs from now, which is no earlier than its start.
    if (deadline.expiresAt === UNTIMED) deadline.expiresAt = now + deadline.timeout
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
  /** `pending` fulfilled after `expired` was reported. */
  late?: (value: T) => void,
): void {
  let open = true
  const deadline = new Settling(expiresAt, timeout, () => {
    open = false
    failed(expired())
  })
  watch(deadline)
  pending.then(
    (value) => {
      if (!open) return late?.(value)
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

class Settling implements Deadline {
  watched = false
  prevDeadline: Deadline | null = null
  nextDeadline: Deadline | null = null

  constructor(
    public expiresAt: number,
    readonly timeout: number,
    private readonly onExpire: () => void,
  ) {}

  expire(): void {
    this.onExpire()
  }
}
