/**
 * Wrappers that record a stream's values as they pass, without consuming it.
 *
 * Each step of the underlying generator runs with the run as the current run
 * (so traced calls made by the generator's own code are its children), and
 * the consumer's code between two steps runs in the consumer's context. The
 * whole protocol is forwarded: `next(value)`, `return(value)`, `throw(error)`,
 * the return value. A stop before the end (`break`, `return()`, a stream's
 * `cancel()`) ends the run `cancelled` with what was produced so far.
 */

import type { ReadableStreamReadResult } from "node:stream/web";
import { storage } from "./context.js";
import { abandoned, type RunTree } from "./run.js";
import { errorMessage } from "./serialize.js";
import { reportOnce } from "./warn.js";

// The prototypes generators inherit from: iterator helpers (`map`, `take`, ... where
// the runtime has them) then work on the wrappers too.
const IteratorPrototype: object = Object.getPrototypeOf(Object.getPrototypeOf((function* () {})()));
const AsyncIteratorPrototype: object = Object.getPrototypeOf(
  Object.getPrototypeOf((async function* () {})()),
);

function callStep<T>(iterator: Iterator<T> | AsyncIterator<T>, method: "next" | "return" | "throw", args: unknown[]): unknown {
  const step = iterator[method] as ((...a: unknown[]) => unknown) | undefined;
  if (step === undefined) {
    // An iterator without return()/throw(): as the language treats it.
    if (method === "return") return { done: true, value: args[0] };
    throw args[0];
  }
  return Reflect.apply(step, iterator, args);
}

/** The stream ended: its run no longer needs ending when the wrapper is collected. */
function untrack(wrapper: object): void {
  abandoned.unregister(wrapper);
}

/** A traced sync generator: lazy, the same values, awaitable (`await gen()` gives it back). */
export class TracedGenerator<T = unknown, TReturn = unknown, TNext = unknown> {
  readonly #inner: Generator<T, TReturn, TNext>;
  readonly #run: RunTree;

  constructor(inner: Generator<T, TReturn, TNext>, run: RunTree) {
    this.#inner = inner;
    this.#run = run;
    run._streaming();
  }

  next(...args: [] | [TNext]): IteratorResult<T, TReturn> {
    return this.#step("next", args);
  }

  return(value: TReturn): IteratorResult<T, TReturn> {
    return this.#step("return", [value]);
  }

  throw(error: unknown): IteratorResult<T, TReturn> {
    return this.#step("throw", [error]);
  }

  [Symbol.iterator](): this {
    return this;
  }

  get [Symbol.toStringTag](): string {
    return "Generator";
  }

  /**
   * LangSmith's docs await a traced generator (`for (const x of await gen())`): so
   * awaiting this gives an iterator over the same stream. It has no `then` of its
   * own, or the promise machinery would unwrap it forever.
   */
  then<R1 = Generator<T, TReturn, TNext>, R2 = never>(
    onFulfilled?: ((value: Generator<T, TReturn, TNext>) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return Promise.resolve(new GeneratorView(this) as unknown as Generator<T, TReturn, TNext>).then(
      onFulfilled,
      onRejected,
    );
  }

  #step(method: "next" | "return" | "throw", args: unknown[]): IteratorResult<T, TReturn> {
    const run = this.#run;
    if (run.ended) return callStep(this.#inner, method, args) as IteratorResult<T, TReturn>;
    let result: IteratorResult<T, TReturn>;
    try {
      result = storage.run(run, callStep, this.#inner, method, args) as IteratorResult<T, TReturn>;
    } catch (error) {
      untrack(this);
      run.fail(error);
      throw error;
    }
    if (result.done) {
      untrack(this);
      // Stopped from outside (return()) is cancelled; ran to its end (or caught a
      // thrown-in error and returned) is ok.
      if (method === "return") run.cancel();
      else run._end(result.value); // the return value, recorded after the chunks
    } else {
      run._chunk(result.value);
    }
    return result;
  }
}
Object.setPrototypeOf(TracedGenerator.prototype, IteratorPrototype);

/** What awaiting a `TracedGenerator` gives: the same stream, without a `then`. */
class GeneratorView<T, TReturn, TNext> {
  readonly #generator: TracedGenerator<T, TReturn, TNext>;

  constructor(generator: TracedGenerator<T, TReturn, TNext>) {
    this.#generator = generator;
  }

  next(...args: [] | [TNext]): IteratorResult<T, TReturn> {
    return this.#generator.next(...args);
  }

  return(value: TReturn): IteratorResult<T, TReturn> {
    return this.#generator.return(value);
  }

  throw(error: unknown): IteratorResult<T, TReturn> {
    return this.#generator.throw(error);
  }

  [Symbol.iterator](): this {
    return this;
  }

  get [Symbol.toStringTag](): string {
    return "Generator";
  }
}
Object.setPrototypeOf(GeneratorView.prototype, IteratorPrototype);

/** A traced async generator (or async iterator): the same values, recorded as they arrive. */
export class TracedAsyncGenerator<T = unknown, TReturn = unknown, TNext = unknown> {
  readonly #inner: AsyncIterator<T, TReturn, TNext>;
  readonly #run: RunTree;

  constructor(inner: AsyncIterator<T, TReturn, TNext>, run: RunTree) {
    this.#inner = inner;
    this.#run = run;
    run._streaming();
  }

  next(...args: [] | [TNext]): Promise<IteratorResult<T, TReturn>> {
    return this.#step("next", args);
  }

  return(value?: TReturn | PromiseLike<TReturn>): Promise<IteratorResult<T, TReturn>> {
    return this.#step("return", [value]);
  }

  throw(error: unknown): Promise<IteratorResult<T, TReturn>> {
    return this.#step("throw", [error]);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  get [Symbol.toStringTag](): string {
    return "AsyncGenerator";
  }

  #step(method: "next" | "return" | "throw", args: unknown[]): Promise<IteratorResult<T, TReturn>> {
    const run = this.#run;
    if (run.ended) {
      try {
        return Promise.resolve(callStep(this.#inner, method, args) as Promise<IteratorResult<T, TReturn>>);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    let pending: Promise<IteratorResult<T, TReturn>>;
    try {
      pending = Promise.resolve(storage.run(run, callStep, this.#inner, method, args) as Promise<IteratorResult<T, TReturn>>);
    } catch (error) {
      untrack(this);
      run.fail(error);
      return Promise.reject(error);
    }
    // Called here, outside the run: the consumer's continuation is not the run's child.
    return pending.then(
      (result) => {
        if (result.done) {
          untrack(this);
          if (method === "return") run.cancel();
          else run._end(result.value);
        } else {
          run._chunk(result.value);
        }
        return result;
      },
      (error: unknown) => {
        untrack(this);
        run.fail(error);
        throw error;
      },
    );
  }
}
Object.setPrototypeOf(TracedAsyncGenerator.prototype, AsyncIteratorPrototype);

/**
 * An async iterable that is not a generator (a class, a Node stream): returned as
 * it is, its `Symbol.asyncIterator` replaced on the object so that iterating it is
 * recorded. Its other methods are untouched (reading a Node stream with `.on("data")`
 * is not recorded: the run then ends `cancelled` when the process exits).
 */
export function tapAsyncIterable<S extends AsyncIterable<unknown>>(iterable: S, run: RunTree): S {
  const original = iterable[Symbol.asyncIterator];
  run._streaming();
  try {
    Object.defineProperty(iterable, Symbol.asyncIterator, {
      configurable: true,
      writable: true,
      value: function (this: S) {
        return new TracedAsyncGenerator(Reflect.apply(original, this, []) as AsyncIterator<unknown>, run);
      },
    });
  } catch (error) {
    // A frozen object: left alone, and the run ends now (it cannot see the stream).
    reportOnce(`tap:${run.name}`, `cannot follow the async iterable '${run.name}' returned: ${errorMessage(error)}`);
    run.warn("the returned async iterable could not be followed (frozen object)");
    run._end(null);
  }
  return iterable;
}

/**
 * A `ReadableStream`: a new stream over the same reader, pulling one chunk per read
 * of the consumer (so nothing is read ahead), recording each; `cancel()` is forwarded.
 */
export function tapReadableStream<T>(stream: ReadableStream<T>, run: RunTree): ReadableStream<T> {
  const reader = stream.getReader();
  run._streaming();
  return new ReadableStream<T>(
    {
      async pull(controller) {
        let result: ReadableStreamReadResult<T>;
        try {
          result = await storage.run(run, () => reader.read());
        } catch (error) {
          run.fail(error);
          controller.error(error);
          return;
        }
        if (result.done) {
          run._end();
          controller.close();
          return;
        }
        run._chunk(result.value);
        controller.enqueue(result.value);
      },
      async cancel(reason) {
        run.cancel();
        await storage.run(run, () => reader.cancel(reason));
      },
    },
    { highWaterMark: 0 },
  );
}
