/**
 * Run ids: UUIDv7 text (RFC 9562), unique across processes and hosts, sortable by time.
 *
 * Like the Python writer: 48 bits of Unix milliseconds, then the version, then
 * the sub-millisecond fraction in the 12 `rand_a` bits (the RFC's method 3),
 * then the variant and 62 random bits. Each id's 60-bit timestamp is above the
 * previous one in this process (one tick, ~244 ns, when the clock has not
 * moved), so ids made in one process sort in creation order.
 */

import { randomFillSync } from "node:crypto";
import { epochMicros } from "./clock.js";

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

// Random bytes come from a pool: one system call per 512 ids instead of one per id.
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolAt = POOL_SIZE;

// The last 60-bit timestamp handed out: milliseconds * 4096 + the 12-bit fraction.
// 2^60 is beyond 2^53, so it is kept as two numbers.
let lastMs = 0;
let lastFraction = -1;

// "xxxxxxxx-xxxx-" of the last millisecond: most ids of a burst share it.
let prefixMs = -1;
let prefix = "";

/** A new UUIDv7 as lower-case text. */
export function uuid7(): string {
  const us = epochMicros();
  let ms = Math.floor(us / 1000);
  let fraction = Math.floor(((us - ms * 1000) * 4096) / 1000);
  if (ms < lastMs || (ms === lastMs && fraction <= lastFraction)) {
    ms = lastMs;
    fraction = lastFraction + 1;
    if (fraction > 0xfff) {
      ms += 1;
      fraction = 0;
    }
  }
  lastMs = ms;
  lastFraction = fraction;
  if (ms !== prefixMs) {
    const text = ms.toString(16).padStart(12, "0");
    prefix = `${text.slice(0, 8)}-${text.slice(8)}-`;
    prefixMs = ms;
  }
  if (poolAt + 8 > POOL_SIZE) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += 8;
  const version = (0x7000 | fraction).toString(16);
  // The variant: the two high bits of byte 8 are 10.
  return (
    prefix +
    version +
    "-" +
    HEX[(pool[at]! & 0x3f) | 0x80]! +
    HEX[pool[at + 1]!]! +
    "-" +
    HEX[pool[at + 2]!]! +
    HEX[pool[at + 3]!]! +
    HEX[pool[at + 4]!]! +
    HEX[pool[at + 5]!]! +
    HEX[pool[at + 6]!]! +
    HEX[pool[at + 7]!]!
  );
}
