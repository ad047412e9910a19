import type { ViolationEvent } from '../../src/index.js'

/** A recording `onViolation` handler. */
export function eventRecorder(): {
  events: ViolationEvent[]
  onViolation: (event: ViolationEvent) => void
} {
  const events: ViolationEvent[] = []
  return { events, onViolation: (event) => events.push(event) }
}

/** Let handlers scheduled with setImmediate run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)))
}
