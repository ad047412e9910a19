/**
 * Read deadlines, checked by one shared sweep instead of a timer per request: a read in
 * flight is a set entry (added and deleted, nothing allocated), and one unref'd interval
 * runs while any is pending. A read is refused between `timeout` and `timeout` plus one
 * sweep (an eighth of the shortest timeout in flight, 5 ms to 1 s) after it started. An
 * async validator's answer is awaited on the same sweep (`settleBy`).
 */

/** A read (or a validation) that can run out of time. */
export interface Deadline {
  /** `Date.now()` past which the read has failed. */
  readonly expiresAt: number
  expire(): void
}

const pending = new Set<Deadline>()
let timer: ReturnType<typeof setInterval> | null = null
let every = Infinity

/** Start watching `deadline`, whose read may take `timeout` ms. */
export function watch(deadline: Deadline, timeout: number): void {
  pending.add(deadline)
  const sweep = Math.min(1000, Math.max(5, Math.floor(timeout / 8)))
  if (timer !== null && sweep >= every) return
  if (timer !== null) clearInterval(timer)
  every = sweep
  timer = setInterval(sweepExpired, sweep)
  timer.unref()
}

/** Stop watching: the read ended. */
export function unwatch(deadline: Deadline): void {
  pending.delete(deadline)
}

function sweepExpired(): void {
  if (pending.size === 0) {
    clearInterval(timer as ReturnType<typeof setInterval>)
    timer = null
    every = Infinity
    return
  }
  const now = Date.now()
  for (const deadline of pending) {
    if (deadline.expiresAt > now) continue
    pending.delete(deadline)
    deadline.expire()
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
  const deadline: Deadline = {
    expiresAt,
    expire() {
      open = false
      failed(expired())
    },
  }
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
