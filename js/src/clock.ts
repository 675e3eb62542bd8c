/**
 * Time for events: wall-clock microseconds that never go backwards, and a monotonic clock.
 *
 * `Date.now()` has only milliseconds, and the format wants microseconds
 * (`2026-11-24T07:00:41.123456Z`, as the Python writer stamps them). So the
 * wall clock is `performance.timeOrigin + performance.now()`: high
 * resolution and monotonic. A monotonic clock drifts from the wall clock
 * (NTP slews it, the machine sleeps), so once a second it is compared with
 * `Date.now()` and re-anchored when it is off by more than a couple of
 * milliseconds. Re-anchoring backwards never makes time go back: the clock
 * stands still until the wall clock catches up, so timestamps in one process
 * never decrease and ids made from them sort in creation order.
 */

import { performance } from "node:perf_hooks";

// Both in microseconds: offset + performance.now() * 1000 is the wall clock.
let offsetUs = performance.timeOrigin * 1000;
let lastUs = 0;
let nextCheckUs = 0;
// Date.now() floors to the millisecond, so ours may run up to 1 ms ahead of it.
const TOLERANCE_US = 2000;

/** Microseconds since the Unix epoch: an integer, never less than the previous one. */
export function epochMicros(): number {
  const mono = performance.now() * 1000;
  let now = Math.floor(offsetUs + mono);
  if (mono >= nextCheckUs) {
    nextCheckUs = mono + 1_000_000;
    const wall = Date.now() * 1000;
    if (now - wall > TOLERANCE_US || wall - now > TOLERANCE_US) {
      offsetUs = wall + 500 - mono; // the middle of the millisecond Date.now() named
      now = Math.floor(offsetUs + mono);
    }
  }
  if (now < lastUs) now = lastUs;
  lastUs = now;
  return now;
}

/** A monotonic clock in (fractional) milliseconds, for durations. */
export const monotonicMs: () => number = performance.now.bind(performance);

// The text of the last whole second, "2026-11-24T07:00:41": formatting a Date is
// the slow part of a timestamp, and events come many per second.
let cachedSecond = -1;
let cachedText = "";

/** RFC 3339 UTC text with microseconds and `Z`, as the Python writer writes `ts`. */
export function formatTimestamp(us: number): string {
  const second = Math.floor(us / 1_000_000);
  if (second !== cachedSecond) {
    cachedText = new Date(second * 1000).toISOString().slice(0, 19);
    cachedSecond = second;
  }
  const micros = us - second * 1_000_000;
  return `${cachedText}.${String(micros).padStart(6, "0")}Z`;
}

/** `YYYYMMDDTHHMMSSZ` (UTC) of epoch milliseconds: the start stamp in segment file names. */
export function fileStamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-24T07:00:41.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}
