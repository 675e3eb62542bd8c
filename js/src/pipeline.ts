/**
 * Where events go: rendered to a line and appended to this process's segment file.
 *
 * Built from the configuration on the first event and rebuilt when it
 * changes. The writer is kept while the directory stays the same (new limits
 * apply to it), so reconfiguring other settings neither starts a new segment
 * file nor loses track of the old ones that retention must delete.
 */

import { getConfig, onConfigChange, type Config } from "./config.js";
import { Redactor } from "./redact.js";
import { Renderer, type Event } from "./render.js";
import { errorType } from "./serialize.js";
import { reportOnce } from "./warn.js";
import { SegmentWriter } from "./writer.js";

/** Where rendered lines go: the segment writer, or memory in tests. */
export interface Sink {
  write(line: string): void;
}

let writer: SegmentWriter | null = null;
let renderer: Renderer | null = null;
let sinkOverride: Sink | null = null;

function newRenderer(config: Config): Renderer {
  const redactor = config.redact ? new Redactor(config.redactKeys, config.redactPatterns) : null;
  return new Renderer({ maxChars: config.maxChars, maxItems: config.maxItems }, redactor);
}

onConfigChange((config) => {
  renderer = null;
  if (writer !== null) {
    if (writer.directory === config.dir) {
      writer.setLimits({ maxBytes: config.maxBytes, maxSegments: config.maxSegments });
    } else {
      writer.close();
      writer = null;
    }
  }
});

function write(line: string): void {
  if (sinkOverride !== null) {
    sinkOverride.write(line);
    return;
  }
  if (writer === null) {
    const config = getConfig();
    writer = new SegmentWriter(config.dir, { maxBytes: config.maxBytes, maxSegments: config.maxSegments });
  }
  writer.write(line);
}

function failed(kind: unknown, error: unknown): void {
  reportOnce(
    `emit:${errorType(error)}`,
    `could not record a ${String(kind)} event (${errorType(error)}: ${(error as Error)?.message ?? error})`,
  );
}

/** Record one event of any shape. Never throws: tracing must not harm the traced code. */
export function emit(event: Event): void {
  try {
    renderer ??= newRenderer(getConfig());
    write(event["event"] === "run.start" ? renderer.start(event) : event["event"] === "run.end" ? renderer.end(event) : renderer.render(event));
  } catch (error) {
    failed(event["event"], error);
  }
}

/** Record a `run.chunk` event (the hot path: no event object is made). Never throws. */
export function emitChunk(runId: string, traceId: string, ts: string, seq: number, chunk: unknown): void {
  try {
    renderer ??= newRenderer(getConfig());
    write(renderer.chunk(runId, traceId, ts, seq, chunk));
  } catch (error) {
    failed("run.chunk", error);
  }
}

/** Send lines to `sink` instead of the files (null: back to the files); returns the old one. */
export function setSink(sink: Sink | null): Sink | null {
  const previous = sinkOverride;
  sinkOverride = sink;
  return previous;
}

/** The segment writer, once the first event made it (for tests and diagnostics). */
export function currentWriter(): SegmentWriter | null {
  return writer;
}

/** Close the open segment file; the next event opens a new one. */
export function closeWriter(): void {
  writer?.close();
}
