/**
 * The emulator's movable clock. Everything time-based (token expiry, elevation expiry, the 30-day deletion
 * window, audit timestamps) reads it, so tests can jump forward without waiting.
 */
export interface MovableClock {
  now(): number
  advance(ms: number): void
  set(ms: number): void
}

/** A clock that follows `base` (default Date.now) plus an offset that advance()/set() change. */
export function createClock(base: () => number = Date.now): MovableClock {
  let offset = 0
  return {
    now: () => base() + offset,
    advance: (ms: number) => {
      offset += ms
    },
    set: (ms: number) => {
      offset = ms - base()
    },
  }
}
