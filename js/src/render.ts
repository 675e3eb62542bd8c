/**
 * One event as one line of bytes: redaction, then JSON in the format's key order.
 *
 * As the Python pipeline (`Redactor` then `Renderer` in
 * `jsontrace/processors.py`): an event is written the fast way, redacting
 * while it is written; if that gives up (see `serialize.ts`), or the line is
 * longer than the shortest string or list the limits could cut (so something
 * in it may need cutting), the payload is made plain, redacted whole, and
 * written the careful way. Redaction always comes before truncation, so a cut
 * never leaves half a secret readable.
 *
 * The envelope (ids, counters, timestamps) is ours, never redacted or cut.
 */

import { Buffer } from "node:buffer";
import type { Redactor } from "./redact.js";
import { CAREFUL, Encoder, fixSurrogates, floatText, toPlain, type Limits } from "./serialize.js";

/** An event: keys in the order they are written. */
export type Event = Record<string, unknown>;

// Keys that are ours: written as they are, never redacted, never cut.
const ENVELOPE = new Set([
  "event",
  "run_id",
  "trace_id",
  "v",
  "ts",
  "parent_run_id",
  "pid",
  "host",
  "seq",
  "status",
  "chunk_count",
  "duration_ms",
  "first_chunk_ms",
  "redacted",
]);
// Written as floats ("4.0", as Python writes a float), whatever their value.
const FLOATS = new Set(["duration_ms", "first_chunk_ms"]);
// Names rather than data: written (and cut) like payload, never redacted.
const NOT_SCANNED = new Set(["name", "run_type"]);

export class Renderer {
  // A line shorter than this cannot hold a string longer than maxChars (one byte or
  // more per character) nor a list longer than maxItems (two bytes or more per item).
  private readonly walkAbove: number;

  constructor(
    private readonly limits: Limits,
    private readonly redactor: Redactor | null,
  ) {
    this.walkAbove = Math.min(limits.maxChars, 2 * limits.maxItems);
  }

  /** The event's line, ending in "\n". */
  render(event: Event): string {
    let line: string | null = null;
    try {
      line = this.fast(event);
    } catch (error) {
      if (error !== CAREFUL) throw error;
    }
    // UTF-8 has at most 3 bytes per UTF-16 unit: most lines need no byte count.
    if (line !== null && (line.length * 3 <= this.walkAbove || Buffer.byteLength(line) <= this.walkAbove)) {
      return line;
    }
    return this.careful(event);
  }

  private fast(event: Event): string {
    const encoder = new Encoder(false);
    let out = "{";
    let first = true;
    for (const key of Object.keys(event)) {
      const value = event[key];
      out += `${first ? "" : ","}${JSON.stringify(key)}:`;
      first = false;
      if (ENVELOPE.has(key)) {
        out += envelopeText(key, value);
      } else {
        out += encoder.field(key, value, NOT_SCANNED.has(key) ? null : this.redactor);
      }
    }
    return finish(out, encoder.paths);
  }

  private careful(event: Event): string {
    const paths: string[] = [];
    const encoder = new Encoder(true, this.limits);
    let out = "{";
    let first = true;
    for (const key of Object.keys(event)) {
      let value = event[key];
      out += `${first ? "" : ","}${JSON.stringify(key)}:`;
      first = false;
      if (ENVELOPE.has(key)) {
        out += envelopeText(key, value);
        continue;
      }
      if (this.redactor !== null && !NOT_SCANNED.has(key) && value !== null && value !== undefined) {
        // A string is redacted as it is; anything else is made plain data first (the
        // careful way only if the fast way refuses it, as Python's orjson round trip).
        const plain = typeof value === "string" ? value : plainForRedaction(value);
        value = this.redactor.scrub(plain, key, paths);
      }
      out += encoder.field(key, value, null);
    }
    return finish(out, paths);
  }
}

function plainForRedaction(value: unknown): unknown {
  try {
    return toPlain(value, false);
  } catch (error) {
    if (error !== CAREFUL) throw error;
    return toPlain(value, true);
  }
}

function finish(out: string, paths: readonly string[]): string {
  if (paths.length > 0) {
    // Paths hold the data's keys: a lone surrogate in one is written as text.
    out += `,"redacted":${JSON.stringify(paths.map(fixSurrogates))}`;
  }
  return `${out}}\n`;
}

function envelopeText(key: string, value: unknown): string {
  if (typeof value === "number") {
    return FLOATS.has(key) ? floatText(value) : Number.isSafeInteger(value) ? String(value) : floatText(value);
  }
  if (value === undefined) return "null";
  return JSON.stringify(value);
}
