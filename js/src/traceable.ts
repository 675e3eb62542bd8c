/**
 * `traceable(fn, config?)`: LangSmith's TypeScript API, recording runs to local files.
 *
 * The wrapped function behaves as the original: the same values, the same
 * errors (the very objects, stacks included), `this` passed through. What it
 * returns decides how the run is recorded, as in LangSmith:
 *
 * * a generator (sync): wrapped lazily, each value recorded as a chunk when it
 *   is produced, `return()`/`throw()` forwarded. (LangSmith drains a sync
 *   generator before the caller sees its first value; this streams.) The
 *   wrapper is also awaitable: `await gen()` gives an iterator over the same
 *   stream, so LangSmith's `for (const x of await gen())` works;
 * * an async generator, another async iterable, or a `ReadableStream`: tapped,
 *   not consumed: chunks are recorded as the consumer pulls them;
 * * a promise: the run ends when it settles (a promise of a stream streams);
 * * anything else: the run ends at once with it as its outputs.
 *
 * A consumer that stops early (`break`, `return()`, `cancel()`) ends the run
 * `cancelled`, with the partial output. The run is current (for nesting)
 * only while the function's own code runs: inside each step of a generator,
 * never in the consumer's code between two steps.
 */

import { getConfig } from "./config.js";
import { isDisabled, parentRun, storage } from "./context.js";
import { inherit } from "./inherit.js";
import { abandoned, RunTree, type Hooks, type KVMap } from "./run.js";
import { errorMessage, errorType } from "./serialize.js";
import { reportOnce, safeString } from "./warn.js";
import { TracedAsyncGenerator, TracedGenerator, tapAsyncIterable, tapReadableStream } from "./streams.js";

/** The inputs `processInputs` receives, as in LangSmith. */
export type ProcessInputs<Args extends unknown[]> = Args extends []
  ? Record<string, never>
  : Args extends [infer Input]
    ? Input extends KVMap
      ? Input extends Iterable<infer Item> | AsyncIterable<infer Item>
        ? { input: Array<Item> }
        : Input
      : { input: Input }
    : { args: Args };

/** The outputs `processOutputs` receives, as in LangSmith. */
export type ProcessOutputs<ReturnValue> = ReturnValue extends KVMap
  ? ReturnValue extends Iterable<infer Item> | AsyncIterable<infer Item>
    ? { outputs: Array<Item> }
    : ReturnValue
  : { outputs: ReturnValue };

/** LangSmith's `traceable` options that jsontrace records; the others it accepts are ignored. */
export interface TraceableConfig<Func extends (...args: any[]) => any> {
  /** The run's name (default: the function's name, or "<lambda>"). */
  name?: string;
  /** `chain` (default), `llm`, `tool`, `retriever`, `prompt`, `embedding`, `parser`, ... */
  run_type?: string;
  metadata?: KVMap;
  tags?: string[];
  /** Turns a stream's chunks into the run's outputs (may be async). Default: the chunks. */
  aggregator?: (chunks: any[]) => unknown;
  /** Shapes the recorded inputs (may be async); not inherited by nested calls. */
  processInputs?: (inputs: Readonly<ProcessInputs<Parameters<Func>>>) => KVMap | Promise<KVMap>;
  /** Shapes the recorded outputs (may be async); not inherited by nested calls. */
  processOutputs?: (outputs: Readonly<ProcessOutputs<Awaited<ReturnType<Func>>>>) => KVMap | Promise<KVMap>;
  /** Force tracing on or off for this function (and, when off, for the calls it makes). */
  tracingEnabled?: boolean;
  /** Kept as metadata `project` where nothing inherited names one, as on the Python side. */
  project_name?: string;
  /** Merged into the run's metadata (model name, temperature, ...): below `metadata`, above what is inherited. */
  getInvocationParams?: (...args: Parameters<Func>) => KVMap | undefined;
  /** Called with the run once it has started. */
  on_start?: (runTree: RunTree | undefined) => void;
  /** Called with the run once its end is written. */
  on_end?: (runTree: RunTree) => void;
  /** Accepted for compatibility and ignored: there is no server. */
  client?: unknown;
}

/** A traced function: the original's signature. */
export type TraceableFunction<Func extends (...args: any[]) => any> = Func & {
  readonly "jsontrace:traceable": true;
};

const MARK = "jsontrace:traceable";

/** Whether `value` was made by `traceable`. */
export function isTraceableFunction(value: unknown): value is TraceableFunction<(...args: any[]) => any> {
  return typeof value === "function" && MARK in value;
}

/** LangSmith's mapping of call arguments to recorded inputs. */
function inputsOf(args: readonly unknown[]): KVMap {
  const first = args[0];
  if (first === null) return { inputs: null };
  if (first === undefined && args.length <= 1) return {};
  if (args.length > 1) return { args: [...args] };
  if (isPlainInput(first)) return first as KVMap;
  return { input: first };
}

function isPlainInput(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (
    (proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null) &&
    !(Symbol.toStringTag in value) &&
    !(Symbol.iterator in value)
  );
}

interface Spec {
  readonly name: string;
  readonly runType: string;
  readonly tags: readonly string[];
  readonly metadata: Readonly<KVMap>;
  readonly projectName: string | undefined;
  readonly hooks: Hooks;
  readonly processInputs: ((inputs: any) => unknown) | undefined;
  readonly getInvocationParams: ((...args: any[]) => unknown) | undefined;
  readonly onStart: ((runTree: RunTree | undefined) => void) | undefined;
  readonly tracingEnabled: boolean | undefined;
}

function checkHook(label: string, hook: unknown): void {
  if (hook !== undefined && typeof hook !== "function") {
    throw new TypeError(`traceable: ${label} must be a function, got ${typeof hook}`);
  }
}

/** Start a run for a call; undefined (reported once) if jsontrace itself fails. */
function startRun(spec: Spec, args: unknown[], parent: RunTree | undefined): RunTree | undefined {
  try {
    let warnings: string[] | undefined;
    let inputs: KVMap | PromiseLike<KVMap> = inputsOf(args);
    if (spec.processInputs !== undefined) {
      try {
        inputs = spec.processInputs(inputs) as KVMap | PromiseLike<KVMap>;
      } catch (error) {
        // Record nothing rather than what processInputs was meant to hide.
        const message = `processInputs of '${spec.name}' raised ${errorType(error)}: ${errorMessage(error)}`;
        reportOnce(`hook:${spec.name}:processInputs`, message);
        inputs = {};
        warnings = [message];
      }
    }
    let metadata = spec.metadata;
    // Describes this call (its model, say), so it beats what the run inherits (LangSmith's
    // TypeScript SDK lets a parent's metadata win); the config's metadata beats it.
    if (spec.getInvocationParams !== undefined) {
      try {
        const params = spec.getInvocationParams(...args);
        if (params !== null && typeof params === "object") metadata = { ...(params as KVMap), ...metadata };
      } catch (error) {
        reportOnce(
          `hook:${spec.name}:getInvocationParams`,
          `getInvocationParams of '${spec.name}' raised ${errorType(error)}: ${errorMessage(error)}`,
        );
      }
    }
    const inherited = inherit(parent, spec.tags, metadata, spec.projectName);
    const run = new RunTree({
      name: spec.name,
      runType: spec.runType,
      inputs,
      tags: inherited.tags,
      metadata: inherited.metadata,
      parent,
      hooks: spec.hooks,
      ...(warnings !== undefined ? { warnings } : {}),
    });
    if (spec.onStart !== undefined) {
      try {
        spec.onStart(run);
      } catch (error) {
        reportOnce(`hook:${spec.name}:on_start`, `on_start of '${spec.name}' raised ${errorType(error)}: ${errorMessage(error)}`);
      }
    }
    return run;
  } catch (error) {
    reportOnce(`start:${spec.name}`, `could not trace '${spec.name}': ${errorType(error)}: ${errorMessage(error)}`);
    return undefined;
  }
}

function isGeneratorObject(value: object): value is Generator {
  return value instanceof TracedGenerator || Object.prototype.toString.call(value) === "[object Generator]";
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

function isReadableStream(value: object): value is ReadableStream<unknown> {
  return typeof ReadableStream === "function" && value instanceof ReadableStream;
}

/** What the wrapped function returned, wrapped so that the run records what it produces. */
function follow(result: unknown, run: RunTree): unknown {
  if (result === null || (typeof result !== "object" && typeof result !== "function")) {
    run._end(result);
    return result;
  }
  const object = result as object;
  try {
    if (isGeneratorObject(object)) return track(new TracedGenerator(object, run), run);
    if (isReadableStream(object) || isAsyncIterable(object)) return followStream(object, run);
    if (object instanceof Promise) {
      return object.then(
        (value: unknown) => followSettled(value, run),
        (error: unknown) => {
          run.fail(error);
          throw error;
        },
      );
    }
    if (typeof (object as { then?: unknown }).then === "function") return observeThenable(object as PromiseLike<unknown>, run);
  } catch (error) {
    // A wrapper of ours failed: the value goes back untouched, the run ends with it.
    reportOnce(`follow:${run.name}`, `could not follow what '${run.name}' returned: ${errorMessage(error)}`);
  }
  run._end(result);
  return result;
}

/** The value a promise gave: a stream goes on being recorded, anything else ends the run. */
function followSettled(value: unknown, run: RunTree): unknown {
  if (value !== null && typeof value === "object" && (isReadableStream(value) || isAsyncIterable(value))) {
    return followStream(value, run);
  }
  run._end(value);
  return value;
}

function followStream(stream: ReadableStream<unknown> | AsyncIterable<unknown>, run: RunTree): unknown {
  if (isReadableStream(stream)) return track(tapReadableStream(stream, run), run);
  if (Object.prototype.toString.call(stream) === "[object AsyncGenerator]") {
    return track(new TracedAsyncGenerator(stream as AsyncGenerator, run), run);
  }
  return track(tapAsyncIterable(stream, run), run);
}

/**
 * A thenable that is not a promise (a query builder, say): calling its `then` may
 * start work, so it is never called for tracing. The caller gets it back behind a
 * proxy whose `then`/`catch`/`finally` also record the outcome when the caller
 * awaits it.
 */
function observeThenable(thenable: PromiseLike<unknown>, run: RunTree): unknown {
  const settle = <T>(value: T): T => {
    run._end(value);
    return value;
  };
  const failed = (error: unknown): never => {
    run.fail(error);
    throw error;
  };
  return new Proxy(thenable, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === "then" && typeof value === "function") {
        return (onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) =>
          (value as PromiseLike<unknown>["then"]).call(
            target,
            (v) => {
              settle(v);
              return onFulfilled ? onFulfilled(v) : v;
            },
            (e) => {
              try {
                failed(e);
              } catch {
                // recorded; the caller's handler decides
              }
              if (onRejected) return onRejected(e);
              throw e;
            },
          );
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function track<T extends object>(wrapper: T, run: RunTree): T {
  // A stream dropped unfinished ends its run `cancelled` when it is collected.
  abandoned.register(wrapper, run, wrapper);
  return wrapper;
}

/**
 * Trace `wrappedFunc`: each call is recorded as a run (`run.start`, a `run.chunk`
 * per streamed value, `run.end`), nested under the run it was called from.
 */
export function traceable<Func extends (...args: any[]) => any>(
  wrappedFunc: Func,
  config?: TraceableConfig<Func>,
): TraceableFunction<Func> {
  if (typeof wrappedFunc !== "function") {
    throw new TypeError(`traceable needs a function, got ${typeof wrappedFunc}: ${safeString(wrappedFunc)}`);
  }
  const options = config ?? {};
  for (const label of ["aggregator", "processInputs", "processOutputs", "getInvocationParams", "on_start", "on_end"] as const) {
    checkHook(label, options[label]);
  }
  if (options.run_type !== undefined && (typeof options.run_type !== "string" || !options.run_type)) {
    throw new TypeError(`traceable: run_type must be a non-empty string, got ${safeString(options.run_type)}`);
  }
  const spec: Spec = {
    name: options.name ?? (wrappedFunc.name || "<lambda>"),
    runType: options.run_type ?? "chain",
    // Each tag once, as the Python side's decorator keeps them: a root run writes its own as given.
    tags: [...new Set(options.tags ?? [])],
    metadata: { ...(options.metadata ?? {}) },
    projectName: options.project_name || undefined,
    hooks: { aggregator: options.aggregator, processOutputs: options.processOutputs, onEnd: options.on_end },
    processInputs: options.processInputs,
    getInvocationParams: options.getInvocationParams,
    onStart: options.on_start,
    tracingEnabled: options.tracingEnabled,
  };
  const forced = spec.tracingEnabled;

  const traced = function (this: unknown, ...args: unknown[]): unknown {
    const store = storage.getStore();
    const enabled = forced ?? (isDisabled(store) ? false : getConfig().enabled);
    if (!enabled) {
      if (forced === false && !isDisabled(store)) {
        // Off here and, unless they force it, in the traced calls made inside.
        return storage.run({ disabled: true, parent: parentRun(store) }, Reflect.apply, wrappedFunc, this, args);
      }
      return Reflect.apply(wrappedFunc, this, args);
    }
    const run = startRun(spec, args, parentRun(store));
    if (run === undefined) return Reflect.apply(wrappedFunc, this, args);
    let result: unknown;
    try {
      result = storage.run(run, Reflect.apply, wrappedFunc, this, args);
    } catch (error) {
      run.fail(error);
      throw error;
    }
    return follow(result, run);
  };
  Object.defineProperty(traced, "name", { value: wrappedFunc.name, configurable: true });
  Object.defineProperty(traced, "length", { value: wrappedFunc.length, configurable: true });
  Object.defineProperty(traced, MARK, { value: true });
  return traced as unknown as TraceableFunction<Func>;
}
