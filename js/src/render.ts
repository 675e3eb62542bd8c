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

// `"key":` for each key seen: JSON.stringify of every key of every event adds up.
const keyTexts = new Map<string, string>();

function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = `${JSON.stringify(fixSurrogates(key))}:`;
    if (keyTexts.size < 1024) keyTexts.set(key, text);
  }
  return text;
}

const CHUNK_PREFIX = '{"event":"run.chunk","run_id":"';

export class Renderer {
  // A line shorter than this cannot hold a string longer than maxChars (one byte or
  // more per character) nor a list longer than maxItems (two bytes or more per item).
  private readonly walkAbove: number;
  // Reused event after event: the fast way allocates nothing it can avoid.
  private readonly encoder = new Encoder(false);

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
    if (line !== null && this.short(line)) return line;
    return this.careful(event);
  }

  /**
   * A `run.chunk` event's line: the same bytes as `render` of the event object, made
   * directly for the commonest event of all, a chunk holding a short string.
   * `runId` and `traceId` are our UUIDs and `ts` our timestamp (nothing to escape).
   */
  chunk(runId: string, traceId: string, ts: string, seq: number, chunk: unknown): string {
    if (typeof chunk === "string") {
      let text = chunk;
      if (this.redactor !== null) text = this.redactor.scrubText(chunk);
      if (text.isWellFormed()) {
        const line =
          `${CHUNK_PREFIX}${runId}","trace_id":"${traceId}","v":1,"ts":"${ts}","seq":${seq},"chunk":${JSON.stringify(text)}` +
          (text === chunk ? "}\n" : ',"redacted":["chunk"]}\n');
        if (this.short(line)) return line;
      }
    }
    return this.render({ event: "run.chunk", run_id: runId, trace_id: traceId, v: 1, ts, seq, chunk });
  }

  /**
   * A `run.start` event's line, as `render` would write it, for the events `RunTree`
   * makes (these keys, in this order): the envelope is ours and needs no escaping.
   */
  start(event: Event): string {
    try {
      const encoder = this.encoder;
      encoder.reset();
      const redactor = this.redactor;
      const parent = event["parent_run_id"] as string | null;
      const out =
        `{"event":"run.start","run_id":"${event["run_id"] as string}","trace_id":"${event["trace_id"] as string}","v":1,"ts":"${event["ts"] as string}",` +
        `"parent_run_id":${parent === null ? "null" : `"${parent}"`},"name":${encoder.field("name", event["name"], null)},` +
        `"run_type":${encoder.field("run_type", event["run_type"], null)},"inputs":${encoder.field("inputs", event["inputs"], redactor)},` +
        `"tags":${encoder.field("tags", event["tags"], redactor)},"metadata":${encoder.field("metadata", event["metadata"], redactor)},` +
        `"pid":${event["pid"] as number},"host":${hostText(event["host"] as string)}`;
      const line = finish(out, encoder.paths);
      if (this.short(line)) return line;
    } catch (error) {
      if (error !== CAREFUL) throw error;
    }
    return this.careful(event);
  }

  /**
   * A `run.end` event's line, as `render` would write it, for the events `RunTree`
   * makes: the fixed keys, then `first_chunk_ms`, `tags`, `metadata`, `trace_warnings`
   * when present, in that order.
   */
  end(event: Event): string {
    try {
      const encoder = this.encoder;
      encoder.reset();
      const redactor = this.redactor;
      let out =
        `{"event":"run.end","run_id":"${event["run_id"] as string}","trace_id":"${event["trace_id"] as string}","v":1,"ts":"${event["ts"] as string}",` +
        `"status":"${event["status"] as string}","outputs":${encoder.field("outputs", event["outputs"], redactor)},` +
        `"error":${encoder.field("error", event["error"], redactor)},"chunk_count":${event["chunk_count"] as number},` +
        `"duration_ms":${floatText(event["duration_ms"] as number)}`;
      if ("first_chunk_ms" in event) {
        const first = event["first_chunk_ms"] as number | null;
        out += `,"first_chunk_ms":${first === null ? "null" : floatText(first)}`;
      }
      if ("tags" in event) out += `,"tags":${encoder.field("tags", event["tags"], redactor)}`;
      if ("metadata" in event) out += `,"metadata":${encoder.field("metadata", event["metadata"], redactor)}`;
      if ("trace_warnings" in event) {
        out += `,"trace_warnings":${encoder.field("trace_warnings", event["trace_warnings"], redactor)}`;
      }
      const line = finish(out, encoder.paths);
      if (this.short(line)) return line;
    } catch (error) {
      if (error !== CAREFUL) throw error;
    }
    return this.careful(event);
  }

  /** Whether a line is short enough that nothing in it can exceed the limits. */
  private short(line: string): boolean {
    // UTF-8 has at most 3 bytes per UTF-16 unit: most lines need no byte count.
    return line.length * 3 <= this.walkAbove || Buffer.byteLength(line) <= this.walkAbove;
  }

  private fast(event: Event): string {
    const encoder = this.encoder;
    encoder.reset();
    let out = "{";
    for (const key of Object.keys(event)) {
      const value = event[key];
      out += out.length === 1 ? keyText(key) : `,${keyText(key)}`;
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
    for (const key of Object.keys(event)) {
      let value = event[key];
      out += out.length === 1 ? keyText(key) : `,${keyText(key)}`;
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

let lastHost = "";
let lastHostText = '""';

function hostText(host: string): string {
  if (host !== lastHost) {
    lastHostText = JSON.stringify(host);
    lastHost = host;
  }
  return lastHostText;
}

function envelopeText(key: string, value: unknown): string {
  if (typeof value === "number") {
    return FLOATS.has(key) ? floatText(value) : Number.isSafeInteger(value) ? String(value) : floatText(value);
  }
  if (value === undefined) return "null";
  return JSON.stringify(value);
}
