/**
 * traceable on every kind of function: the wrapped function behaves as the original,
 * and the run records what it did.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { getCurrentRunTree, isTraceableFunction, traceable } from "../src/index.js";
import { freshTraces, onlyRun, segmentFiles, type Event } from "./helpers.js";

let traces: ReturnType<typeof freshTraces>;
beforeEach(() => {
  traces = freshTraces();
});
afterEach(() => traces.done());

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("sync functions", () => {
  test("return the original's value, and the run records inputs and outputs", () => {
    const add = traceable((a: number, b: number) => a + b, { name: "add" });
    assert.equal(add(2, 3), 5);
    const run = onlyRun(traces.events(), "add");
    assert.deepEqual(run.start.inputs, { args: [2, 3] });
    assert.equal(run.end?.status, "ok");
    assert.equal(run.end?.outputs, 5);
    assert.equal(run.end?.error, null);
    assert.equal(run.end?.chunk_count, 0);
    assert.equal("first_chunk_ms" in run.end!, false, "first_chunk_ms is for streams only");
  });

  test("inputs are mapped from the arguments as LangSmith maps them", () => {
    const f = traceable((..._args: unknown[]) => null, { name: "f" });
    f();
    f({ question: "q", k: 2 });
    f("text");
    f(null);
    f(1, "two");
    f([1, 2]);
    const inputs = traces.events().filter((e) => e.event === "run.start").map((e) => e.inputs);
    assert.deepEqual(inputs, [{}, { question: "q", k: 2 }, { input: "text" }, { inputs: null }, { args: [1, "two"] }, { input: [1, 2] }]);
  });

  test("throw the very error, stack unchanged, and the run records it", () => {
    const boom = new TypeError("bad input");
    const stack = boom.stack;
    const f = traceable(
      () => {
        throw boom;
      },
      { name: "f" },
    );
    assert.throws(() => f(), (error) => error === boom);
    assert.equal(boom.stack, stack);
    const run = onlyRun(traces.events(), "f");
    assert.equal(run.end?.status, "error");
    assert.equal(run.end?.outputs, null);
    assert.deepEqual(Object.keys(run.end?.error), ["type", "message", "traceback"]);
    assert.equal(run.end?.error.type, "TypeError");
    assert.equal(run.end?.error.message, "bad input");
    assert.equal(run.end?.error.traceback, stack);
  });

  test("an Error subclass that does not set its name is recorded by its class name; causes follow the stack", () => {
    class QuotaExceeded extends Error {}
    const f = traceable(
      () => {
        throw new QuotaExceeded("over", { cause: new RangeError("limit 3") });
      },
      { name: "f" },
    );
    assert.throws(() => f(), QuotaExceeded);
    const error = onlyRun(traces.events(), "f").end?.error;
    assert.equal(error.type, "QuotaExceeded");
    assert.match(error.traceback, /\nCaused by: RangeError: limit 3\n/);
  });

  test("a thrown non-Error is recorded by its type and text", () => {
    const f = traceable(
      () => {
        throw "plain text"; // eslint-disable-line no-throw-literal
      },
      { name: "f" },
    );
    assert.throws(() => f(), (error) => error === "plain text");
    const error = onlyRun(traces.events(), "f").end?.error;
    assert.deepEqual(error, { type: "string", message: "plain text", traceback: "string: plain text" });
  });

  test("`this`, name and length are those of the original; the result is marked traceable", () => {
    const counter = {
      n: 41,
      inc: traceable(function (this: { n: number }, by: number) {
        this.n += by;
        return this.n;
      }),
    };
    assert.equal(counter.inc(1), 42);
    assert.equal(counter.inc.length, 1);
    function namedOne(_x: number) {
      return 1;
    }
    const traced = traceable(namedOne);
    assert.equal(traced.name, "namedOne");
    assert.equal(isTraceableFunction(traced), true);
    assert.equal(isTraceableFunction(namedOne), false);
    traced(1);
    assert.equal(onlyRun(traces.events(), "namedOne").end?.outputs, 1);
    assert.equal(onlyRun(traces.events(), "<lambda>").start.inputs.input, 1, "an anonymous function is <lambda>");
  });

  test("run_type, tags, metadata and project_name are recorded at the start", () => {
    const f = traceable(() => "x", { name: "f", run_type: "tool", tags: ["a", "b"], metadata: { model: "m" }, project_name: "p" });
    f();
    const start = onlyRun(traces.events(), "f").start;
    assert.equal(start.run_type, "tool");
    assert.deepEqual(start.tags, ["a", "b"]);
    assert.deepEqual(start.metadata, { project: "p", model: "m" });
  });

  test("bad options are refused at once with a TypeError", () => {
    assert.throws(() => traceable(42 as unknown as () => void), TypeError);
    assert.throws(() => traceable(() => 1, { aggregator: "join" as unknown as () => void }), /aggregator must be a function/);
    assert.throws(() => traceable(() => 1, { run_type: "" }), /run_type/);
  });
});

describe("async functions", () => {
  test("resolve to the original's value; the run ends when the promise settles", async () => {
    const f = traceable(
      async (x: number) => {
        await tick();
        return x * 2;
      },
      { name: "f" },
    );
    const pending = f(21);
    assert.equal(onlyRun(traces.events(), "f").end, undefined, "still running");
    assert.equal(await pending, 42);
    const run = onlyRun(traces.events(), "f");
    assert.equal(run.end?.status, "ok");
    assert.equal(run.end?.outputs, 42);
  });

  test("reject with the very error; the run records it", async () => {
    const boom = new Error("nope");
    const f = traceable(
      async () => {
        await tick();
        throw boom;
      },
      { name: "f" },
    );
    await assert.rejects(f(), (error) => error === boom);
    const run = onlyRun(traces.events(), "f");
    assert.equal(run.end?.status, "error");
    assert.equal(run.end?.error.message, "nope");
  });

  test("an AbortError ends the run cancelled, without an error record", async () => {
    const f = traceable(
      async (signal: AbortSignal) => {
        await new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
      { name: "f" },
    );
    const controller = new AbortController();
    const pending = f(controller.signal);
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
    const end = onlyRun(traces.events(), "f").end;
    assert.equal(end?.status, "cancelled");
    assert.equal(end?.error, null);
  });

  test("a thenable that is not a promise is not called until the caller awaits it", async () => {
    let executed = 0;
    const query = {
      where: (x: string) => `where ${x}`,
      then(resolve: (value: string) => void) {
        executed++;
        resolve("rows");
      },
    };
    const f = traceable(() => query, { name: "f" });
    const result = f();
    assert.equal(executed, 0, "tracing did not start the query");
    assert.equal(result.where("a"), "where a", "its other methods still work");
    assert.equal(await result, "rows");
    assert.equal(executed, 1);
    assert.equal(onlyRun(traces.events(), "f").end?.outputs, "rows");
  });
});

describe("sync generators", () => {
  test("are lazy: nothing runs before the first next(), and each chunk is on disk before the consumer gets it", () => {
    const log: string[] = [];
    const gen = traceable(
      function* () {
        log.push("started");
        yield "a";
        yield "b";
      },
      { name: "gen" },
    );
    const iterator = gen();
    assert.deepEqual(log, [], "not started by the call");
    assert.equal(onlyRun(traces.events(), "gen").start.name, "gen", "the run starts at the call");
    for (const value of iterator) {
      const chunks = onlyRun(traces.events(), "gen").chunks;
      assert.equal(chunks[chunks.length - 1]?.chunk, value);
    }
    assert.deepEqual(log, ["started"]);
    const run = onlyRun(traces.events(), "gen");
    assert.deepEqual(run.chunks.map((c) => c.seq), [0, 1]);
    assert.equal(run.end?.status, "ok");
    assert.deepEqual(run.end?.outputs, ["a", "b"]);
    assert.equal(run.end?.chunk_count, 2);
    assert.equal(typeof run.end?.first_chunk_ms, "number");
  });

  test("forward next(value), return values and throw(); a caught throw goes on streaming", () => {
    const gen = traceable(
      function* () {
        const got: unknown[] = [];
        try {
          got.push(yield 1);
        } catch (error) {
          got.push(`caught ${(error as Error).message}`);
        }
        got.push(yield 2);
        return got;
      },
      { name: "gen" },
    );
    const it = gen();
    assert.deepEqual(it.next(), { value: 1, done: false });
    assert.deepEqual(it.throw(new Error("x")), { value: 2, done: false });
    assert.deepEqual(it.next("sent"), { value: ["caught x", "sent"], done: true });
    assert.deepEqual(it.next(), { value: undefined, done: true }, "finished generators stay finished");
    const run = onlyRun(traces.events(), "gen");
    assert.equal(run.end?.status, "ok");
    assert.deepEqual(run.end?.outputs, [1, 2, ["caught x", "sent"]], "the return value after the chunks");
  });

  test("the return value is recorded after the chunks and the aggregator sees it; undefined and null are not", () => {
    const aggregated: unknown[][] = [];
    const count = traceable(
      function* () {
        yield 1;
        yield 2;
        return "done";
      },
      { name: "count" },
    );
    const joined = traceable(
      function* () {
        yield "a";
        return "b";
      },
      {
        name: "joined",
        aggregator: (values: string[]) => {
          aggregated.push([...values]);
          return values.join("+");
        },
      },
    );
    const quiet = traceable(
      function* () {
        yield 1;
        return null;
      },
      { name: "quiet" },
    );
    const bare = traceable(function* () {
      yield 1;
    }, { name: "bare" });
    const it = count();
    assert.deepEqual([it.next(), it.next(), it.next()].map((r) => r.value), [1, 2, "done"], "the caller gets it as before");
    assert.deepEqual([...joined()], ["a"]);
    assert.deepEqual([...quiet()], [1]);
    assert.deepEqual([...bare()], [1]);
    const events = traces.events();
    assert.deepEqual(onlyRun(events, "count").end?.outputs, [1, 2, "done"]);
    assert.equal(onlyRun(events, "count").end?.chunk_count, 2, "the return value is not a chunk");
    assert.equal(onlyRun(events, "count").chunks.length, 2);
    assert.deepEqual(aggregated, [["a", "b"]]);
    assert.equal(onlyRun(events, "joined").end?.outputs, "a+b");
    assert.deepEqual(onlyRun(events, "quiet").end?.outputs, [1]);
    assert.deepEqual(onlyRun(events, "bare").end?.outputs, [1]);
  });

  test("a stop from outside records no return value: return(v) is the consumer's, not the generator's", () => {
    const gen = traceable(
      function* () {
        try {
          yield 1;
          yield 2;
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          return "from finally";
        }
      },
      { name: "gen" },
    );
    const it = gen();
    it.next();
    assert.deepEqual(it.return("from consumer"), { value: "from finally", done: true });
    const end = onlyRun(traces.events(), "gen").end;
    assert.equal(end?.status, "cancelled");
    assert.deepEqual(end?.outputs, [1]);
  });

  test("an error from the generator is the very error; the run ends error with the partial output", () => {
    const boom = new Error("broke");
    const gen = traceable(
      function* () {
        yield "a";
        throw boom;
      },
      { name: "gen" },
    );
    const seen: string[] = [];
    assert.throws(() => {
      for (const x of gen()) seen.push(x);
    }, (error) => error === boom);
    assert.deepEqual(seen, ["a"]);
    const end = onlyRun(traces.events(), "gen").end;
    assert.equal(end?.status, "error");
    assert.deepEqual(end?.outputs, ["a"]);
    assert.equal(end?.error.message, "broke");
  });

  test("an uncaught throw() ends the run error", () => {
    const gen = traceable(function* () {
      yield 1;
      yield 2;
    });
    const it = gen();
    it.next();
    const thrown = new Error("from the consumer");
    assert.throws(() => it.throw(thrown), (error) => error === thrown);
    assert.equal(onlyRun(traces.events(), "<lambda>").end?.status, "error");
  });

  test("break ends the run cancelled with the partial output; the generator's finally runs as its child", () => {
    const cleanup = traceable(() => "cleaned", { name: "cleanup" });
    let finallyRan = false;
    const gen = traceable(
      function* () {
        try {
          yield "a";
          yield "b";
          yield "c";
        } finally {
          finallyRan = true;
          cleanup();
        }
      },
      { name: "gen", aggregator: (chunks: string[]) => chunks.join("") },
    );
    for (const x of gen()) if (x === "b") break;
    assert.equal(finallyRan, true);
    const events = traces.events();
    const run = onlyRun(events, "gen");
    assert.equal(run.end?.status, "cancelled");
    assert.equal(run.end?.outputs, "ab");
    assert.equal(run.end?.chunk_count, 2);
    assert.equal(onlyRun(events, "cleanup").start.parent_run_id, run.start.run_id);
  });

  test("return() before the first next() ends the run cancelled with no chunks", () => {
    const gen = traceable(function* () {
      yield 1;
    });
    const it = gen();
    assert.deepEqual(it.return(undefined), { value: undefined, done: true });
    const end = onlyRun(traces.events(), "<lambda>").end;
    assert.equal(end?.status, "cancelled");
    assert.deepEqual(end?.outputs, []);
    assert.equal(end?.first_chunk_ms, null);
  });

  test("awaiting the generator (LangSmith's docs' form) gives the same stream, recorded once", async () => {
    const gen = traceable(function* () {
      yield "x";
      yield "y";
    });
    const direct = gen();
    assert.equal(direct.next().value, "x");
    const awaited = await direct; // an iterator over the same stream, not a copy
    assert.deepEqual([...awaited], ["y"]);
    const run = onlyRun(traces.events(), "<lambda>");
    assert.deepEqual(run.chunks.map((c) => c.chunk), ["x", "y"]);
    assert.equal(run.end?.status, "ok");
    assert.equal(typeof (awaited as unknown as { then?: unknown }).then, "undefined", "the awaited view is not thenable");
  });

  test("a function returning a generator object streams it too; a returned array is a plain value", () => {
    function* inner() {
      yield 1;
      yield 2;
    }
    const wrapper = traceable(() => inner(), { name: "wrapper" });
    const list = traceable(() => [1, 2], { name: "list" });
    assert.deepEqual([...wrapper()], [1, 2]);
    assert.deepEqual(list(), [1, 2]);
    const events = traces.events();
    assert.equal(onlyRun(events, "wrapper").chunks.length, 2);
    assert.equal(onlyRun(events, "list").chunks.length, 0);
    assert.deepEqual(onlyRun(events, "list").end?.outputs, [1, 2]);
  });
});

describe("async generators and async iterables", () => {
  test("stream the same values, recorded as they arrive", async () => {
    const gen = traceable(
      async function* (n: number) {
        for (let i = 0; i < n; i++) {
          await tick();
          yield i;
        }
      },
      { name: "agen", aggregator: (chunks: number[]) => chunks.reduce((a, b) => a + b, 0) },
    );
    const seen: number[] = [];
    for await (const x of gen(3)) {
      seen.push(x);
      assert.equal(onlyRun(traces.events(), "agen").chunks.at(-1)?.chunk, x, "on disk before the consumer has it");
    }
    assert.deepEqual(seen, [0, 1, 2]);
    const end = onlyRun(traces.events(), "agen").end;
    assert.equal(end?.status, "ok");
    assert.equal(end?.outputs, 3);
  });

  test("the return value is recorded after the chunks, and an async aggregator sees it (LangSmith drops it)", async () => {
    const gen = traceable(
      async function* () {
        await tick();
        yield "a";
        yield "b";
        return "c";
      },
      {
        name: "agen",
        aggregator: async (values: string[]) => {
          await tick();
          return values.join("");
        },
      },
    );
    const plain = traceable(
      async function* () {
        yield 1;
        return { finished: true };
      },
      { name: "plain" },
    );
    const seen: string[] = [];
    for await (const x of gen()) seen.push(x);
    assert.deepEqual(seen, ["a", "b"]);
    const it = plain();
    await it.next();
    assert.deepEqual(await it.next(), { value: { finished: true }, done: true });
    await tick();
    await tick();
    const events = traces.events();
    assert.equal(onlyRun(events, "agen").end?.outputs, "abc");
    assert.equal(onlyRun(events, "agen").end?.chunk_count, 2);
    assert.deepEqual(onlyRun(events, "plain").end?.outputs, [1, { finished: true }]);
  });

  test("break ends the run cancelled and runs the generator's finally", async () => {
    let finallyRan = false;
    const gen = traceable(
      async function* () {
        try {
          yield 1;
          yield 2;
          yield 3;
        } finally {
          finallyRan = true;
        }
      },
      { name: "agen" },
    );
    for await (const x of gen()) if (x === 2) break;
    assert.equal(finallyRan, true);
    const end = onlyRun(traces.events(), "agen").end;
    assert.equal(end?.status, "cancelled");
    assert.deepEqual(end?.outputs, [1, 2]);
  });

  test("an error is the very error; the run ends error with the partial output", async () => {
    const boom = new Error("async broke");
    const gen = traceable(
      async function* () {
        yield "a";
        throw boom;
      },
      { name: "agen" },
    );
    await assert.rejects(async () => {
      for await (const _ of gen());
    }, (error) => error === boom);
    const end = onlyRun(traces.events(), "agen").end;
    assert.equal(end?.status, "error");
    assert.deepEqual(end?.outputs, ["a"]);
  });

  test("an async iterable object is returned as it is, and iterating it is recorded", async () => {
    class Feed {
      label = "feed";
      async *[Symbol.asyncIterator]() {
        yield "p";
        yield "q";
      }
    }
    const feed = new Feed();
    const f = traceable(() => feed, { name: "f" });
    const result = f();
    assert.equal(result, feed, "the same object");
    const seen: string[] = [];
    for await (const x of result) seen.push(x);
    assert.deepEqual(seen, ["p", "q"]);
    const run = onlyRun(traces.events(), "f");
    assert.deepEqual(run.end?.outputs, ["p", "q"]);
    assert.equal(run.end?.status, "ok");
  });

  test("an async function resolving to an async generator streams it in the same run", async () => {
    const f = traceable(
      async () => {
        await tick();
        return (async function* () {
          yield "late";
        })();
      },
      { name: "f" },
    );
    const stream = await f();
    const seen: string[] = [];
    for await (const x of stream) seen.push(x);
    assert.deepEqual(seen, ["late"]);
    assert.deepEqual(onlyRun(traces.events(), "f").end?.outputs, ["late"]);
  });

  test("a ReadableStream is tapped lazily: the source is read only as the consumer reads", async () => {
    let pulls = 0;
    const source = new ReadableStream<string>(
      {
        pull(controller) {
          pulls++;
          if (pulls > 3) controller.close();
          else controller.enqueue(`c${pulls}`);
        },
      },
      { highWaterMark: 0 },
    );
    const f = traceable(() => source, { name: "stream", aggregator: (chunks: string[]) => chunks.join("+") });
    const stream = f();
    await tick();
    assert.equal(pulls, 0, "nothing read before the consumer reads");
    const reader = stream.getReader();
    assert.deepEqual(await reader.read(), { value: "c1", done: false });
    assert.equal(pulls, 1);
    const rest: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest.push(value);
    }
    assert.deepEqual(rest, ["c2", "c3"]);
    const run = onlyRun(traces.events(), "stream");
    assert.equal(run.end?.status, "ok");
    assert.equal(run.end?.outputs, "c1+c2+c3");
  });

  test("cancelling a tapped ReadableStream cancels the source with the reason and ends the run cancelled", async () => {
    let reason: unknown;
    let n = 0;
    const source = new ReadableStream<number>({
      pull(controller) {
        controller.enqueue(n++);
      },
      cancel(why) {
        reason = why;
      },
    });
    const stream = traceable(() => source, { name: "stream" })();
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel("enough");
    assert.equal(reason, "enough");
    const end = onlyRun(traces.events(), "stream").end;
    assert.equal(end?.status, "cancelled");
    assert.deepEqual(end?.outputs, [0]);
  });

  test("an error from a ReadableStream reaches the consumer and ends the run error", async () => {
    const source = new ReadableStream<number>({
      start(controller) {
        controller.enqueue(1);
        controller.error(new Error("source failed"));
      },
    });
    const stream = traceable(() => source, { name: "stream" })();
    const reader = stream.getReader();
    await assert.rejects(async () => {
      for (;;) if ((await reader.read()).done) break;
    }, /source failed/);
    const end = onlyRun(traces.events(), "stream").end;
    assert.equal(end?.status, "error");
  });
});

describe("the current run and nesting", () => {
  test("a traced call inside another is its child, across await, Promise.all and .map", async () => {
    const child = traceable(
      async (x: number) => {
        await tick();
        return x;
      },
      { name: "child" },
    );
    const parent = traceable(
      async () => {
        await tick();
        const values = await Promise.all([1, 2, 3].map((x) => child(x)));
        await new Promise((resolve) => setTimeout(resolve, 1));
        return [...values, await child(4)];
      },
      { name: "parent" },
    );
    assert.deepEqual(await parent(), [1, 2, 3, 4]);
    const events = traces.events();
    const parentRun = onlyRun(events, "parent").start;
    const children = events.filter((e) => e.event === "run.start" && e.name === "child");
    assert.equal(children.length, 4);
    for (const start of children) {
      assert.equal(start.parent_run_id, parentRun.run_id);
      assert.equal(start.trace_id, parentRun.run_id);
    }
    assert.deepEqual(children.map((c) => c.inputs.input), [1, 2, 3, 4]);
  });

  test("the consumer's code between two yields is never the generator's child; the generator's own calls are", async () => {
    const inBody = traceable(() => "body", { name: "in_body" });
    const inLoop = traceable(() => "loop", { name: "in_loop" });
    const gen = traceable(
      function* () {
        yield inBody();
        yield "second";
      },
      { name: "gen" },
    );
    const agen = traceable(
      async function* () {
        await tick();
        yield inBody();
      },
      { name: "agen" },
    );
    const main = traceable(
      async () => {
        for (const _ of gen()) inLoop();
        for await (const _ of agen()) inLoop();
      },
      { name: "main" },
    );
    await main();
    const events = traces.events();
    const ids = (name: string) => events.filter((e) => e.event === "run.start" && e.name === name);
    const mainId = onlyRun(events, "main").start.run_id;
    assert.deepEqual(ids("in_loop").map((e) => e.parent_run_id), [mainId, mainId, mainId]);
    assert.deepEqual(
      ids("in_body").map((e) => e.parent_run_id),
      [onlyRun(events, "gen").start.run_id, onlyRun(events, "agen").start.run_id],
    );
  });

  test("a generator's parent is the run that called it, even when another run consumes it", () => {
    const gen = traceable(function* () {
      yield 1;
    }, { name: "gen" });
    const make = traceable(() => gen(), { name: "make" });
    const consume = traceable((it: Iterable<number>) => [...it], { name: "consume" });
    const stream = make();
    consume(stream);
    const events = traces.events();
    assert.equal(onlyRun(events, "gen").start.parent_run_id, onlyRun(events, "make").start.run_id);
  });

  test("getCurrentRunTree() gives the running run; outside, it throws unless asked for undefined", async () => {
    assert.throws(() => getCurrentRunTree(), /Could not get the current run tree/);
    assert.equal(getCurrentRunTree(true), undefined);
    let seen: { id: string; trace_id: string; name: string; run_type: string } | undefined;
    const f = traceable(
      async () => {
        await tick();
        const run = getCurrentRunTree();
        seen = { id: run.id, trace_id: run.trace_id, name: run.name, run_type: run.run_type };
      },
      { name: "f", run_type: "llm" },
    );
    await f();
    const start = onlyRun(traces.events(), "f").start;
    assert.deepEqual(seen, { id: start.run_id, trace_id: start.trace_id, name: "f", run_type: "llm" });
  });

  test("getCurrentRunTree().end(outputs, error, endTime, metadata) inside the run adds to what it returns, as Python's end(outputs=...)", () => {
    const f = traceable(
      () => {
        getCurrentRunTree().end({ a: 1 }, undefined, undefined, { m: 1 });
        return 5;
      },
      { name: "f" },
    );
    const g = traceable(
      () => {
        getCurrentRunTree().end({ t: 1 });
        return { b: 2 };
      },
      { name: "g" },
    );
    const child = traceable(() => "c", { name: "child" });
    const gen = traceable(
      function* () {
        yield 1;
        getCurrentRunTree().end({ note: "early" });
        yield child();
        return "r";
      },
      { name: "gen" },
    );
    assert.equal(f(), 5);
    assert.deepEqual(g(), { b: 2 });
    assert.deepEqual([...gen()], [1, "c"], "the generator goes on after end()");
    const events = traces.events();
    const fEnd = onlyRun(events, "f").end;
    assert.deepEqual([fEnd?.outputs, fEnd?.metadata], [{ output: 5, a: 1 }, { m: 1 }]);
    assert.deepEqual(onlyRun(events, "g").end?.outputs, { b: 2, t: 1 });
    const genEnd = onlyRun(events, "gen").end;
    assert.deepEqual([genEnd?.status, genEnd?.chunk_count, genEnd?.outputs], ["ok", 2, { output: [1, "c", "r"], note: "early" }]);
    assert.equal(onlyRun(events, "child").start.parent_run_id, onlyRun(events, "gen").start.run_id);
  });

  test("tags and metadata added while the run runs are written with its end, whole; unchanged, they are not", () => {
    const changed = traceable(
      () => {
        const run = getCurrentRunTree();
        run.addTags("t2", ["t3"]);
        run.addMetadata({ step: 1 });
        run.metadata = { more: true };
      },
      { name: "changed", tags: ["t1"], metadata: { m: 0 } },
    );
    const pushed = traceable(
      () => {
        getCurrentRunTree().tags.push("late");
      },
      { name: "pushed" },
    );
    const unchanged = traceable(() => getCurrentRunTree().tags.length, { name: "unchanged", tags: ["x"] });
    changed();
    pushed();
    unchanged();
    const events = traces.events();
    const end = onlyRun(events, "changed").end!;
    assert.deepEqual(end.tags, ["t1", "t2", "t3"]);
    assert.deepEqual(end.metadata, { m: 0, step: 1, more: true });
    assert.deepEqual(onlyRun(events, "pushed").end?.tags, ["late"]);
    assert.equal("tags" in onlyRun(events, "unchanged").end!, false);
  });

  test("tracingEnabled: false records nothing, and nothing of the traced calls it makes unless they force it", () => {
    const inner = traceable(() => "inner", { name: "inner" });
    const forced = traceable(() => "forced", { name: "forced", tracingEnabled: true });
    const quiet = traceable(
      () => {
        inner();
        return forced();
      },
      { name: "quiet", tracingEnabled: false },
    );
    const outer = traceable(() => quiet(), { name: "outer" });
    assert.equal(outer(), "forced");
    const events = traces.events();
    const names = events.filter((e) => e.event === "run.start").map((e) => e.name);
    assert.deepEqual(names, ["outer", "forced"]);
    assert.equal(onlyRun(events, "forced").start.parent_run_id, onlyRun(events, "outer").start.run_id);
  });
});

describe("hooks", () => {
  test("an async aggregator is waited for before the end is written", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gen = traceable(
      function* () {
        yield "a";
        yield "b";
      },
      {
        name: "gen",
        aggregator: async (chunks: string[]) => {
          await gate;
          return chunks.join("");
        },
      },
    );
    assert.deepEqual([...gen()], ["a", "b"]);
    assert.equal(onlyRun(traces.events(), "gen").end, undefined, "waiting for the aggregator");
    release();
    await tick();
    await tick();
    assert.equal(onlyRun(traces.events(), "gen").end?.outputs, "ab");
  });

  test("a throwing aggregator leaves the chunks as outputs, a trace warning, and one process warning", async () => {
    const warnings: Error[] = [];
    const listener = (warning: Error) => warnings.push(warning);
    process.on("warning", listener);
    try {
      const gen = traceable(
        function* () {
          yield "a";
        },
        {
          name: "gen",
          aggregator: () => {
            throw new RangeError("cannot join");
          },
        },
      );
      assert.deepEqual([...gen()], ["a"]);
      assert.deepEqual([...gen()], ["a"], "the app goes on, and the next call too");
      await tick();
      const ends = traces.events().filter((e) => e.event === "run.end");
      for (const end of ends) {
        assert.deepEqual(end.outputs, ["a"]);
        assert.deepEqual(end.trace_warnings, ["aggregator of 'gen' raised RangeError: cannot join"]);
      }
      const ours = warnings.filter((w) => w.name === "JsonTraceWarning");
      assert.equal(ours.length, 1, "reported once");
      assert.match(ours[0]!.message, /aggregator of 'gen' raised RangeError: cannot join/);
    } finally {
      process.off("warning", listener);
    }
  });

  test("a rejecting async aggregator is reported the same way", async () => {
    const gen = traceable(
      async function* () {
        yield 1;
      },
      { name: "agen", aggregator: async () => Promise.reject(new Error("later")) },
    );
    for await (const _ of gen());
    await tick();
    const end = onlyRun(traces.events(), "agen").end;
    assert.deepEqual(end?.outputs, [1]);
    assert.deepEqual(end?.trace_warnings, ["aggregator of 'agen' raised Error: later"]);
  });

  test("processInputs shapes the recorded inputs; the function still gets its arguments", () => {
    const f = traceable((input: { text: string; apiClient: object }) => input.text.length, {
      name: "f",
      processInputs: (inputs) => ({ text: inputs.text }),
    });
    assert.equal(f({ text: "abc", apiClient: {} }), 3);
    assert.deepEqual(onlyRun(traces.events(), "f").start.inputs, { text: "abc" });
  });

  test("a throwing processInputs records no inputs rather than what it was to hide", () => {
    const f = traceable((x: string) => x, {
      name: "f",
      processInputs: () => {
        throw new Error("hook broke");
      },
    });
    assert.equal(f("secret"), "secret");
    const run = onlyRun(traces.events(), "f");
    assert.deepEqual(run.start.inputs, {});
    assert.deepEqual(run.end?.trace_warnings, ["processInputs of 'f' raised Error: hook broke"]);
  });

  test("an async processInputs delays the start event; the run's events keep their order", async () => {
    const gen = traceable(
      function* (x: string) {
        yield x;
      },
      { name: "gen", processInputs: async (inputs) => ({ shown: inputs.input }) },
    );
    assert.deepEqual([...gen("v")], ["v"]);
    await tick();
    const events = traces.events().filter((e) => e.name === "gen" || e.event !== "run.start");
    assert.deepEqual(events.map((e) => e.event), ["run.start", "run.chunk", "run.end"]);
    assert.deepEqual(events[0]!.inputs, { shown: "v" });
  });

  test("processOutputs gets LangSmith's shape ({outputs} for a non-object) and its result is recorded", async () => {
    const f = traceable(() => "plain", { name: "f", processOutputs: (outputs) => ({ shown: outputs.outputs }) });
    const g = traceable(async () => ({ answer: 1, secret: 2 }), {
      name: "g",
      processOutputs: async (outputs) => ({ answer: outputs.answer }),
    });
    assert.equal(f(), "plain");
    assert.deepEqual(await g(), { answer: 1, secret: 2 }, "the caller gets the real value");
    await tick();
    const events = traces.events();
    assert.deepEqual(onlyRun(events, "f").end?.outputs, { shown: "plain" });
    assert.deepEqual(onlyRun(events, "g").end?.outputs, { answer: 1 });
  });

  test("a throwing processOutputs records null outputs and a trace warning", () => {
    const f = traceable(() => 1, {
      name: "f",
      processOutputs: () => {
        throw new Error("out hook");
      },
    });
    assert.equal(f(), 1);
    const end = onlyRun(traces.events(), "f").end;
    assert.equal(end?.outputs, null);
    assert.deepEqual(end?.trace_warnings, ["processOutputs of 'f' raised Error: out hook"]);
  });

  test("getInvocationParams, on_start and on_end are called as in LangSmith", () => {
    const calls: string[] = [];
    const f = traceable((model: string) => model, {
      name: "f",
      metadata: { fixed: 1 },
      getInvocationParams: (model) => ({ ls_model_name: model, fixed: 0 }),
      on_start: (run) => calls.push(`start ${run?.name}`),
      on_end: (run) => calls.push(`end ${run.name}`),
    });
    f("gpt");
    assert.deepEqual(calls, ["start f", "end f"]);
    assert.deepEqual(onlyRun(traces.events(), "f").start.metadata, { ls_model_name: "gpt", fixed: 1 });
  });
});

describe("files and redaction", () => {
  test("secret inputs are redacted in the file by default", () => {
    const call = traceable((_args: { prompt: string; apiKey: string }) => "ok", { name: "call" });
    call({ prompt: "hi", apiKey: "sk-live-0123456789abcdefghijkl" });
    const file = join(traces.dir, segmentFiles(traces.dir)[0]!);
    const text = readFileSync(file, "utf8");
    assert.equal(text.includes("0123456789abcdefghijkl"), false);
    const start: Event = onlyRun(traces.events(), "call").start;
    assert.deepEqual(start.inputs, { prompt: "hi", apiKey: "[REDACTED]" });
    assert.deepEqual(start.redacted, ["inputs.apiKey"]);
  });
});
