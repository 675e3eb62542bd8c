/**
 * A run: ids, timing, chunks, aggregation and the end status; it writes its own events.
 *
 * The same events, keys and rules as the Python `Run` (`jsontrace/_run.py`).
 * Every method the wrappers call is total: a throwing aggregator or
 * `processOutputs`, or a failure of the pipeline, is contained here (recorded
 * in the run's `trace_warnings`, reported once), so the traced code never sees
 * an exception that is not its own.
 *
 * Runs still open when the process exits (a generator never finished, a
 * promise never settled) are ended `cancelled` from the `exit` event, and a
 * generator dropped unfinished is ended `cancelled` when it is collected,
 * as the Python side records a generator closed by the garbage collector.
 */

import { hostname } from "node:os";
import { epochMicros, formatTimestamp, monotonicMs } from "./clock.js";
import { uuid7 } from "./ids.js";
import { headersOf, LANGSMITH_TRACE, parseHeaders, type HeadersLike, type RemoteParent } from "./headers.js";
import { emit, emitChunk } from "./pipeline.js";
import type { Event } from "./render.js";
import { errorMessage, errorType } from "./serialize.js";
import { reportOnce, safeString } from "./warn.js";

const HOST = hostname();

export type KVMap = Record<string, unknown>;

/** The user's callables that shape what a run records (LangSmith's names). */
export interface Hooks {
  readonly aggregator?: ((chunks: any[]) => unknown) | undefined;
  readonly processOutputs?: ((outputs: any) => unknown) | undefined;
  readonly onEnd?: ((runTree: RunTree) => void) | undefined;
}

const NO_HOOKS: Hooks = {};

/** What a run starts with. */
export interface RunStart {
  readonly name: string;
  readonly runType: string;
  /** The inputs, or a promise of them (an async `processInputs`): the start event waits. */
  readonly inputs: KVMap | PromiseLike<KVMap>;
  readonly tags: readonly string[];
  readonly metadata: Readonly<KVMap>;
  readonly parent: RunTree | undefined;
  readonly hooks?: Hooks;
  readonly warnings?: string[];
}

type Status = "ok" | "error" | "cancelled";

const open = new Set<RunTree>();
let exitHookInstalled = false;

function installExitHook(): void {
  exitHookInstalled = true;
  process.on("exit", () => {
    // Innermost first: children started after their parents.
    for (const run of [...open].reverse()) run._abandon();
  });
}

/** Ends runs whose generator or stream was garbage-collected before it finished. */
export const abandoned = new FinalizationRegistry<RunTree>((run) => run.cancel());

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Whether a value is an object LangSmith hands to `processOutputs` as it is (else `{outputs: value}`). */
export function isKVMap(value: unknown): value is KVMap {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (
    (proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null) &&
    !(Symbol.toStringTag in value) &&
    !(Symbol.iterator in value)
  );
}

/** `{type, message, traceback}` for a thrown value; the stack as the traceback, causes appended. */
export function describeError(error: unknown): { type: string; message: string; traceback: string } {
  const type = errorType(error);
  const message = errorMessage(error);
  let traceback = `${type}: ${message}`;
  try {
    const stack: unknown = (error as { stack?: unknown } | null)?.stack;
    if (typeof stack === "string" && stack) traceback = stack;
    let cause: unknown = (error as { cause?: unknown } | null)?.cause;
    for (let depth = 0; cause !== undefined && depth < 5; depth++) {
      const causeStack: unknown = (cause as { stack?: unknown } | null)?.stack;
      traceback += `\nCaused by: ${typeof causeStack === "string" ? causeStack : `${errorType(cause)}: ${errorMessage(cause)}`}`;
      cause = (cause as { cause?: unknown } | null)?.cause;
    }
  } catch {
    // A hostile getter: the type and message are still a record.
  }
  return { type, message, traceback };
}

// A failure that is not the app's: an AbortError is how JavaScript cancels work.
function isCancellation(error: unknown): boolean {
  try {
    return (error as { name?: unknown } | null)?.name === "AbortError";
  } catch {
    return false;
  }
}

/**
 * Milliseconds between two monotonic readings, to the nanosecond: the value Python
 * writes (integer nanoseconds / 1e6), not the float noise of a subtraction.
 */
function elapsed(fromMs: number, toMs: number): number {
  return Math.round((toMs - fromMs) * 1e6) / 1e6;
}

const UNSET: unique symbol = Symbol("unset");

/**
 * One traced call: a function, or a generator's or stream's whole output.
 *
 * Get the current one with `getCurrentRunTree()` to read its ids, add tags or
 * metadata while it runs, or pass it to another process with `toHeaders()`.
 * Field names are LangSmith's (`id`, `trace_id`, `parent_run_id`, `run_type`).
 */
export class RunTree {
  readonly id: string;
  readonly trace_id: string;
  readonly parent_run_id: string | undefined;
  readonly name: string;
  readonly run_type: string;
  /** Epoch milliseconds when the run started. */
  readonly start_time: number;
  tags: string[];
  /** True for a parent from another process (`fromHeaders`): its events are not ours to write. */
  readonly remote: boolean;

  private _metadata: KVMap;
  private readonly startUs: number;
  private readonly parentDottedOrder: string | undefined;
  private _dottedOrder: string | undefined;
  private readonly perfStart: number;
  private readonly hooks: Hooks;
  private warnings: string[] | undefined;
  private chunks: unknown[] = [];
  private seq = 0;
  private firstChunkMs = 0;
  private _ended = false;
  private streaming = false;
  private metaChanged = false;
  private readonly tagsAtStart: readonly string[];
  private readonly metadataAtStart: Readonly<KVMap>;
  private outputsSet: unknown = UNSET;
  // Outputs given to end() while the run runs: merged with what it returns, as in Python.
  private extraOutputs: KVMap | undefined;
  // Events waiting for the start event (an async processInputs), else null.
  private queue: Event[] | null = null;
  // Set while the end waits for an async aggregator or processOutputs.
  private pendingEnd: (() => void) | null = null;

  /** Made by traceable(); `RunTree.fromHeaders()` makes a parent from another process. */
  constructor(start: RunStart, remote?: RemoteParent) {
    this.startUs = epochMicros();
    this.start_time = Math.floor(this.startUs / 1000);
    this.perfStart = monotonicMs();
    this.name = start.name;
    this.run_type = start.runType;
    this.tags = [...start.tags];
    this._metadata = { ...start.metadata };
    this.tagsAtStart = [...this.tags];
    this.metadataAtStart = { ...this._metadata };
    this.hooks = start.hooks ?? NO_HOOKS;
    this.warnings = start.warnings;
    if (remote !== undefined) {
      this.remote = true;
      this.id = remote.id;
      this.trace_id = remote.trace_id;
      this.parent_run_id = remote.parent_run_id;
      this._dottedOrder = remote.dotted_order;
      this.parentDottedOrder = undefined;
      this._ended = true; // nothing of it is written here
      return;
    }
    this.remote = false;
    const parent = start.parent;
    this.id = uuid7();
    this.trace_id = parent !== undefined ? parent.trace_id : this.id;
    this.parent_run_id = parent?.id;
    this.parentDottedOrder = parent?.dotted_order;
    if (!exitHookInstalled) installExitHook();
    open.add(this);
    const inputs = start.inputs;
    if (isThenable(inputs)) {
      this.queue = [];
      Promise.resolve(inputs).then(
        (value) => this.writeStart(value),
        (error: unknown) => {
          this.warn(`processInputs of '${this.name}' raised ${errorType(error)}: ${errorMessage(error)}`);
          reportOnce(`hook:${this.name}:processInputs`, this.warnings![this.warnings!.length - 1]!);
          this.writeStart({});
        },
      );
    } else {
      this.writeStart(inputs);
    }
  }

  private writeStart(inputs: unknown): void {
    const queued = this.queue;
    this.queue = null;
    emit({
      event: "run.start",
      run_id: this.id,
      trace_id: this.trace_id,
      v: 1,
      ts: formatTimestamp(this.startUs),
      parent_run_id: this.parent_run_id ?? null,
      name: this.name,
      run_type: this.run_type,
      inputs: inputs ?? {},
      tags: this.tagsAtStart,
      metadata: this.metadataAtStart,
      pid: process.pid,
      host: HOST,
    });
    if (queued !== null) for (const event of queued) emit(event);
  }

  private write(event: Event): void {
    if (this.queue !== null) this.queue.push(event);
    else emit(event);
  }

  /** LangSmith's dotted order: `<start as 20260124T070041123456Z><id>`, the parent's first. */
  get dotted_order(): string {
    if (this._dottedOrder === undefined) {
      const ts = formatTimestamp(this.startUs); // 2026-01-24T07:00:41.123456Z
      const own = ts.replace(/[-:.]/g, "") + this.id;
      this._dottedOrder = this.parentDottedOrder !== undefined ? `${this.parentDottedOrder}.${own}` : own;
    }
    return this._dottedOrder;
  }

  /** The run's metadata. Assigning merges, as in LangSmith (`runTree.metadata = {...}`). */
  get metadata(): KVMap {
    return this._metadata;
  }

  set metadata(metadata: KVMap) {
    this._metadata = { ...this._metadata, ...metadata };
    this.metaChanged = true;
  }

  /** Whether the run's end event has been written (or is being completed). */
  get ended(): boolean {
    return this._ended;
  }

  /** Merge `metadata` into the run's metadata (written with its end). */
  addMetadata(metadata: KVMap): void {
    this.metadata = metadata;
  }

  /** Add tags to the run (written with its end). */
  addTags(...tags: Array<string | readonly string[]>): void {
    for (const tag of tags) {
      if (typeof tag === "string") this.tags.push(tag);
      else this.tags.push(...tag);
    }
    this.metaChanged = true;
  }

  /** Record `outputs` as the run's outputs, instead of the return value or the chunks. */
  setOutputs(outputs: unknown): void {
    this.outputsSet = outputs;
  }

  /** Record a problem inside the tracer in this run's `trace_warnings`. */
  warn(message: string): void {
    this.warnings ??= [];
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  // -- for the wrappers ---------------------------------------------------------------

  /** @internal The run streams: its outputs are its chunks (aggregated). */
  _streaming(): void {
    this.streaming = true;
  }

  /** @internal Record one streamed chunk as a `run.chunk` event. */
  _chunk(value: unknown): void {
    if (this._ended) return;
    const seq = this.seq++;
    const ts = formatTimestamp(epochMicros());
    if (seq === 0) this.firstChunkMs = monotonicMs();
    this.chunks.push(value);
    if (this.queue !== null) {
      this.queue.push({ event: "run.chunk", run_id: this.id, trace_id: this.trace_id, v: 1, ts, seq, chunk: value });
    } else {
      emitChunk(this.id, this.trace_id, ts, seq, value);
    }
  }

  /**
   * LangSmith's `runTree.end(outputs, error, endTime, metadata)` from inside the run:
   * `outputs` (an object; anything else goes under `output`) and `metadata` are
   * recorded when the run ends, merged with what the function returns, as the
   * Python side's `end(outputs=...)` does. The function's own return or throw still
   * ends the run (so its later chunks and children are not lost); `error` is not
   * recorded (throw instead) and `endTime` is ignored.
   */
  end(outputs?: unknown, error?: unknown, _endTime?: unknown, metadata?: KVMap): void {
    if (this.remote) {
      reportOnce("run_tree:end", "RunTree.end() on a run in another process does nothing here; ignored");
      return;
    }
    if (outputs !== undefined && outputs !== null) {
      this.extraOutputs = { ...this.extraOutputs, ...(isKVMap(outputs) ? outputs : { output: outputs }) };
    }
    if (metadata !== undefined && metadata !== null && typeof metadata === "object" && Object.keys(metadata).length > 0) {
      this.addMetadata(metadata);
    }
    if (error !== undefined && error !== null) {
      reportOnce("run_tree:end:error", "RunTree.end(outputs, error) does not record the error: a run's error is what its function throws");
    }
  }

  /**
   * @internal End the run `ok` with `outputs`. A stream's outputs are its chunks,
   * aggregated; `outputs` is then the generator's return value, appended to the
   * chunks when it is not undefined or null (as the Python side and LangSmith record it).
   */
  _end(outputs?: unknown): void {
    this.finish("ok", outputs, undefined);
  }

  /** End the run because `error` escaped: `cancelled` for an AbortError, else `error`. */
  fail(error: unknown): void {
    this.finish(isCancellation(error) ? "cancelled" : "error", undefined, error);
  }

  /** End the run `cancelled` (the consumer stopped early); a no-op once ended. */
  cancel(): void {
    this.finish("cancelled", undefined, undefined);
  }

  /** @internal At exit: end what is still open now, with what there is. */
  _abandon(): void {
    if (this.pendingEnd !== null) this.pendingEnd();
    else this.cancel();
  }

  private finish(status: Status, outputs: unknown, error: unknown): void {
    if (this._ended) return;
    this._ended = true;
    const endMs = monotonicMs();
    const ts = formatTimestamp(epochMicros());
    try {
      this.collect(status, outputs, error, endMs, ts);
    } catch (failure) {
      reportOnce("end", `could not build the end of run '${this.name}': ${errorMessage(failure)}`);
      this.writeEnd(status, null, undefined, endMs, ts);
    }
  }

  /** Work out the outputs (maybe waiting for async hooks), then write the end event. */
  private collect(status: Status, outputs: unknown, error: unknown, endMs: number, ts: string): void {
    let recorded: unknown;
    if (this.outputsSet !== UNSET) recorded = this.outputsSet;
    else if (this.streaming) recorded = this.aggregate(outputs);
    else recorded = outputs;
    const processHook = this.hooks.processOutputs;
    const apply = processHook !== undefined && (status === "ok" || this.streaming);
    const then = (value: unknown): void => {
      value = this.withExtraOutputs(value);
      if (apply) {
        const processed = this.callHook("processOutputs", processHook!, isKVMap(value) ? { ...value } : { outputs: value }, null);
        if (isThenable(processed.value)) {
          this.waitFor(processed.value, null, "processOutputs", (done) =>
            this.writeEnd(status, done, error, endMs, ts),
          );
          return;
        }
        value = processed.value;
      }
      this.writeEnd(status, value, error, endMs, ts);
    };
    if (recorded instanceof Pending) {
      this.waitFor(recorded.promise, recorded.values, "aggregator", then);
    } else {
      then(recorded);
    }
  }

  /** What end() added, merged as the Python side's `add_outputs` does. */
  private withExtraOutputs(value: unknown): unknown {
    const extra = this.extraOutputs;
    if (extra === undefined) return value;
    if (isKVMap(value)) return { ...value, ...extra };
    if (value === undefined || value === null) return { ...extra };
    return { output: value, ...extra };
  }

  private aggregate(returned: unknown): unknown {
    // The aggregator sees the return value too, as Python's reduce_fn does.
    const values = returned === undefined || returned === null ? this.chunks : [...this.chunks, returned];
    const aggregator = this.hooks.aggregator;
    if (aggregator === undefined) return values;
    // If the aggregator fails, the values themselves are still a faithful record.
    const result = this.callHook("aggregator", aggregator, values, values);
    return isThenable(result.value) ? new Pending(result.value, values) : result.value;
  }

  /** Wait for an async hook; at exit, or if it fails, go on with `fallback`. */
  private waitFor(
    promise: PromiseLike<unknown>,
    fallback: unknown,
    label: string,
    next: (value: unknown) => void,
  ): void {
    // The run stays in `open` until its end is written: the exit hook completes it.
    let done = false;
    const complete = (value: unknown): void => {
      if (done) return;
      done = true;
      this.pendingEnd = null;
      next(value);
    };
    this.pendingEnd = () => {
      this.warn(`${label} of '${this.name}' had not finished when the process exited`);
      complete(fallback);
    };
    Promise.resolve(promise).then(complete, (failure: unknown) => {
      const message = `${label} of '${this.name}' raised ${errorType(failure)}: ${errorMessage(failure)}`;
      this.warn(message);
      reportOnce(`hook:${this.name}:${label}`, message);
      complete(fallback);
    });
  }

  private callHook(label: string, hook: (value: any) => unknown, value: unknown, fallback: unknown): { value: unknown } {
    try {
      return { value: hook(value) };
    } catch (failure) {
      const message = `${label} of '${this.name}' raised ${errorType(failure)}: ${errorMessage(failure)}`;
      this.warn(message);
      reportOnce(`hook:${this.name}:${label}`, message);
      return { value: fallback };
    }
  }

  private metaDiffers(): boolean {
    if (this.metaChanged) return true;
    const tags = this.tags;
    const before = this.tagsAtStart;
    if (tags.length !== before.length || tags.some((tag, i) => tag !== before[i])) return true;
    const metadata = this._metadata;
    const keys = Object.keys(metadata);
    const old = this.metadataAtStart;
    return keys.length !== Object.keys(old).length || keys.some((key) => metadata[key] !== old[key]);
  }

  private writeEnd(status: Status, outputs: unknown, error: unknown, endMs: number, ts: string): void {
    open.delete(this);
    const event: Event = {
      event: "run.end",
      run_id: this.id,
      trace_id: this.trace_id,
      v: 1,
      ts,
      status,
      outputs: outputs === undefined ? null : outputs,
      error: status === "error" ? describeError(error) : null,
      chunk_count: this.seq,
      duration_ms: elapsed(this.perfStart, endMs),
    };
    if (this.streaming) event["first_chunk_ms"] = this.seq > 0 ? elapsed(this.perfStart, this.firstChunkMs) : null;
    if (this.metaDiffers()) {
      event["tags"] = this.tags;
      event["metadata"] = this._metadata;
    }
    if (this.warnings !== undefined && this.warnings.length > 0) event["trace_warnings"] = this.warnings;
    this.write(event);
    this.chunks = []; // the run is over: do not keep its stream alive
    const onEnd = this.hooks.onEnd;
    if (onEnd !== undefined) {
      try {
        onEnd(this);
      } catch (failure) {
        reportOnce(`hook:${this.name}:on_end`, `on_end of '${this.name}' raised ${errorType(failure)}: ${errorMessage(failure)}`);
      }
    }
  }

  /**
   * Headers that make a traced call in another process (Python or Node) a child of
   * this run: LangSmith's `langsmith-trace` (the dotted order) and `baggage` (only
   * when there are tags or metadata), and W3C `traceparent`. With `headers` (a
   * `Headers`-like object), they are also set on it.
   */
  toHeaders(headers?: { set(name: string, value: string): void }): Record<string, string> {
    const result = headersOf(this);
    if (headers !== undefined) for (const [name, value] of Object.entries(result)) headers.set(name, value);
    return result;
  }

  /**
   * A parent from another process's headers (`toHeaders()` there, Python or Node):
   * pass it to `withRunTree(parent, fn)` and the traced calls `fn` makes are its
   * children, in the same trace. Undefined when the headers name no parent.
   */
  static fromHeaders(headers: HeadersLike): RunTree | undefined {
    const parent = parseHeaders(headers, epochMicros());
    return parent === undefined ? undefined : RunTree.fromRemote(parent);
  }

  /** A parent from a dotted order (a `langsmith-trace` value), as LangSmith's `fromDottedOrder`. */
  static fromDottedOrder(dottedOrder: string): RunTree | undefined {
    return RunTree.fromHeaders({ [LANGSMITH_TRACE]: dottedOrder });
  }

  private static fromRemote(parent: RemoteParent): RunTree {
    return new RunTree(
      { name: "parent", runType: "chain", inputs: {}, tags: parent.tags, metadata: parent.metadata, parent: undefined },
      parent,
    );
  }

  toString(): string {
    return `RunTree(${safeString(this.name)} ${this.run_type} id=${this.id})`;
  }
}

/** An aggregator's promise, while the end waits for it. */
class Pending {
  constructor(
    readonly promise: PromiseLike<unknown>,
    /** What the aggregator was given: the outputs if it fails. */
    readonly values: unknown[],
  ) {}
}

