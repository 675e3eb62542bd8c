/**
 * What a run inherits from the runs it nests under: the Python side's rules
 * (jsontrace/_tracing_context.py `place`, docs/format.md), so that both
 * languages record the same tags and metadata for the same program.
 */

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { getCurrentRunTree, RunTree, traceable, withRunTree } from "../src/index.js";
import { freshTraces, onlyRun, runsByName, type Event } from "./helpers.js";

let traces: ReturnType<typeof freshTraces>;
beforeEach(() => {
  traces = freshTraces();
});
afterEach(() => traces.done());

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** [name, tags, metadata] of every run.start, in order. */
function shape(events: Event[]): Array<[string, string[], Record<string, unknown>]> {
  return events.filter((e) => e.event === "run.start").map((e) => [e.name, e.tags, e.metadata]);
}

describe("tags and metadata pass down", () => {
  test("children inherit the tags and metadata of the runs they nest under (the issue's example)", () => {
    const leaf = traceable((x: number) => x, { name: "leaf" });
    const mid = traceable((x: number) => leaf(x), { name: "mid", metadata: { tenant: "acme" }, tags: ["outer-tag"] });
    mid(5);
    assert.deepEqual(shape(traces.events()), [
      ["mid", ["outer-tag"], { tenant: "acme" }],
      ["leaf", ["outer-tag"], { tenant: "acme" }],
    ]);
  });

  test("across await, Promise.all and a generator's steps, down to grandchildren", async () => {
    const leaf = traceable(async () => tick(), { name: "leaf" });
    const stream = traceable(
      async function* () {
        await leaf();
        yield 1;
      },
      { name: "stream", tags: ["s"] },
    );
    const root = traceable(
      async () => {
        await tick();
        await Promise.all([leaf(), leaf()]);
        for await (const _ of stream());
      },
      { name: "root", tags: ["r"], metadata: { app: "demo" } },
    );
    await root();
    assert.deepEqual(shape(traces.events()), [
      ["root", ["r"], { app: "demo" }],
      ["leaf", ["r"], { app: "demo" }],
      ["leaf", ["r"], { app: "demo" }],
      ["stream", ["r", "s"], { app: "demo" }],
      ["leaf", ["r", "s"], { app: "demo" }],
    ]);
  });

  test("a run's own metadata beats what it inherits; getInvocationParams beats it too, the config's metadata beats that", () => {
    const child = traceable((_: { model: string }) => "x", {
      name: "child",
      metadata: { k: "child", temperature: 0 },
      getInvocationParams: (input: { model: string }) => ({ ls_model_name: input.model, temperature: 1, tenant: "params" }),
    });
    const parent = traceable(() => child({ model: "small" }), {
      name: "parent",
      metadata: { app: "demo", tenant: "acme", k: "parent", ls_model_name: "big" },
    });
    parent();
    assert.deepEqual(onlyRun(traces.events(), "child").start.metadata, {
      app: "demo",
      tenant: "params",
      k: "child",
      ls_model_name: "small",
      temperature: 0,
    });
  });

  test("a config's repeated tags are written once, at a root as under a parent (the Python decorator's dict.fromkeys)", () => {
    const leaf = traceable(() => 1, { name: "leaf", tags: ["b", "a", "b"] });
    const root = traceable(() => leaf(), { name: "root", tags: ["a", "a"] });
    leaf();
    root();
    assert.deepEqual(shape(traces.events()), [
      ["leaf", ["b", "a"], {}],
      ["root", ["a"], {}],
      ["leaf", ["a", "b"], {}],
    ]);
  });

  test("tags are not repeated down a recursion (LangSmith's Python records ['x', 'x', 'x', 'x'])", () => {
    const rec: (n: number) => number = traceable((n: number): number => (n ? rec(n - 1) : 0), { name: "rec", tags: ["x"] });
    const root = traceable(() => rec(3), { name: "root", tags: ["r"] });
    root();
    assert.deepEqual(
      shape(traces.events()).map(([, tags]) => tags),
      [["r"], ["r", "x"], ["r", "x"], ["r", "x"], ["r", "x"]],
    );
  });

  test("tags and metadata added while a run runs reach the children started after, not those before", () => {
    const leaf = traceable(() => undefined, { name: "leaf" });
    const root = traceable(
      () => {
        leaf();
        const run = getCurrentRunTree();
        run.addTags("late");
        run.addMetadata({ tenant: "b", step: 2 });
        leaf();
      },
      { name: "root", tags: ["r"], metadata: { tenant: "a" } },
    );
    root();
    const leaves = runsByName(traces.events()).get("leaf")!.map((run) => [run.start!.tags, run.start!.metadata]);
    assert.deepEqual(leaves, [
      [["r"], { tenant: "a" }],
      [["r", "late"], { tenant: "b", step: 2 }],
    ]);
  });

  test("a trace keeps its root's project: a child's project_name applies only where nothing inherited names one", () => {
    const child = traceable(() => undefined, { name: "child", project_name: "child-project" });
    const root = traceable(() => child(), { name: "root", project_name: "root-project", metadata: { m: 1 } });
    root();
    child();
    assert.deepEqual(shape(traces.events()), [
      ["root", [], { project: "root-project", m: 1 }],
      ["child", [], { project: "root-project", m: 1 }],
      ["child", [], { project: "child-project" }],
    ]);
  });

  test("reference_example_id and usage_metadata stay the run's own: a child would count its parent's tokens again", () => {
    const child = traceable(() => "a", { name: "child", run_type: "llm" });
    const parent = traceable(
      () => {
        getCurrentRunTree().addMetadata({ usage_metadata: { input_tokens: 10, output_tokens: 5, total_tokens: 15 } });
        return child();
      },
      { name: "parent", run_type: "llm", metadata: { reference_example_id: "ex-1", tenant: "acme" } },
    );
    parent();
    const events = traces.events();
    assert.deepEqual(onlyRun(events, "child").start.metadata, { tenant: "acme" });
    assert.equal("usage" in onlyRun(events, "child").end!, false);
  });

  test("under a function with tracingEnabled: false, traced calls inherit from the run around it", () => {
    const leaf = traceable(() => undefined, { name: "leaf", tracingEnabled: true });
    const quiet = traceable(() => leaf(), { name: "quiet", tracingEnabled: false, tags: ["never"] });
    const root = traceable(() => quiet(), { name: "root", tags: ["r"], metadata: { m: 1 } });
    root();
    assert.deepEqual(shape(traces.events()), [
      ["root", ["r"], { m: 1 }],
      ["leaf", ["r"], { m: 1 }],
    ]);
  });
});

describe("a parent from another process", () => {
  test("its baggage tags and metadata (project too) pass to the runs continued under it", async () => {
    const leaf = traceable(() => "ok", { name: "leaf", tags: ["own"], metadata: { k: "own" } });
    const handler = traceable(async () => leaf(), { name: "handler" });
    const parent = RunTree.fromHeaders({
      "langsmith-trace": "20261124T070041123456Z01a20c5b-2a3a-74f3-b984-ce135be17a49",
      baggage: "langsmith-metadata=%7B%22tenant%22%3A%22acme%22%2C%22k%22%3A%22remote%22%7D,langsmith-tags=remote,langsmith-project=bot",
    });
    assert.ok(parent);
    await withRunTree(parent, () => handler());
    assert.deepEqual(shape(traces.events()), [
      ["handler", ["remote"], { tenant: "acme", k: "remote", project: "bot" }],
      ["leaf", ["remote", "own"], { tenant: "acme", k: "own", project: "bot" }],
    ]);
  });

  test("a key named __proto__ in the baggage stays a metadata key", async () => {
    const handler = traceable(() => Object.getPrototypeOf(getCurrentRunTree().metadata) === Object.prototype, { name: "handler" });
    const parent = RunTree.fromHeaders({
      "langsmith-trace": "20261124T070041123456Z01a20c5b-2a3a-74f3-b984-ce135be17a49",
      baggage: "langsmith-metadata=%7B%22__proto__%22%3A%7B%22polluted%22%3Atrue%7D%7D",
    });
    assert.ok(parent);
    assert.equal(await withRunTree(parent, () => handler()), true);
    assert.deepEqual(onlyRun(traces.events(), "handler").start.metadata, { ["__proto__"]: { polluted: true } });
  });
});
