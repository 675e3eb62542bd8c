/**
 * Traces across processes: a run's headers, and runs continued under a parent from
 * headers (LangSmith's RunTree.fromHeaders / withRunTree).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { getCurrentRunTree, RunTree, traceable, withRunTree } from "../src/index.js";
import { freshTraces, onlyRun, readEvents, runScript, tempDir } from "./helpers.js";

let traces: ReturnType<typeof freshTraces>;
beforeEach(() => {
  traces = freshTraces();
});
afterEach(() => traces.done());

test("toHeaders() gives the dotted order from the root down, baggage and traceparent of the current run", async () => {
  let headers: Record<string, string> = {};
  const inner = traceable(
    async () => {
      getCurrentRunTree().addMetadata({ tenant: "acme" });
      headers = getCurrentRunTree().toHeaders();
    },
    { name: "inner", tags: ["prod"] },
  );
  const outer = traceable(async () => inner(), { name: "outer", project_name: "bot" });
  await outer();
  const events = traces.events();
  const outerStart = onlyRun(events, "outer").start;
  const innerStart = onlyRun(events, "inner").start;
  const stamp = (ts: string) => ts.replace(/[-:.]/g, "");
  assert.deepEqual(Object.keys(headers), ["langsmith-trace", "baggage", "traceparent"]);
  assert.equal(
    headers["langsmith-trace"],
    `${stamp(outerStart.ts)}${outerStart.run_id}.${stamp(innerStart.ts)}${innerStart.run_id}`,
  );
  // The project is inherited from outer, so it travels too.
  assert.equal(headers["baggage"], "langsmith-metadata=%7B%22tenant%22%3A%22acme%22%7D,langsmith-tags=prod,langsmith-project=bot");
  const hex = (id: string) => id.replace(/-/g, "");
  assert.equal(headers["traceparent"], `00-${hex(outerStart.run_id)}-${hex(innerStart.run_id).slice(16)}-01`);
});

test("toHeaders(headers) also sets them on a Headers object", () => {
  const sent = new Headers();
  traceable(() => getCurrentRunTree().toHeaders(sent), { name: "f" })();
  assert.match(sent.get("langsmith-trace") ?? "", /^\d{8}T\d{12}Z[0-9a-f-]{36}$/);
  assert.equal(sent.get("baggage"), null, "no baggage without tags or metadata");
  assert.match(sent.get("traceparent") ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});

test("runs under a parent from headers join its trace: its id as parent, its trace id, its dotted order first", async () => {
  let childHeaders: Record<string, string> = {};
  const handler = traceable(
    async (request: { path: string }) => {
      childHeaders = getCurrentRunTree().toHeaders();
      return request.path;
    },
    { name: "handler" },
  );
  const callerTrace = "20261124T070041123456Z01a20c5b-2a3a-74f3-b984-ce135be17a49";
  const caller = "20261124T070041223456Z01a20c5b-2a3b-7000-8000-0123456789ab";
  const parent = RunTree.fromHeaders({
    "langsmith-trace": `${callerTrace}.${caller}`,
    baggage: "langsmith-tags=remote",
  });
  assert.ok(parent);
  assert.equal(parent.remote, true);
  assert.deepEqual(parent.tags, ["remote"]);
  assert.equal(await withRunTree(parent, () => handler({ path: "/ask" })), "/ask");
  const start = onlyRun(traces.events(), "handler").start;
  assert.equal(start.parent_run_id, "01a20c5b-2a3b-7000-8000-0123456789ab");
  assert.equal(start.trace_id, "01a20c5b-2a3a-74f3-b984-ce135be17a49");
  assert.ok(childHeaders["langsmith-trace"]!.startsWith(`${callerTrace}.${caller}.`));
  assert.equal(traces.events().some((e) => e.run_id === parent.id), false, "the remote parent writes nothing here");
});

test("headers that name no parent give undefined; malformed ones warn once and give undefined", () => {
  assert.equal(RunTree.fromHeaders({ "content-type": "text/plain" }), undefined);
  const warnings: string[] = [];
  const original = process.emitWarning;
  process.emitWarning = ((message: string) => warnings.push(String(message))) as typeof process.emitWarning;
  try {
    assert.equal(RunTree.fromHeaders({ "langsmith-trace": "garbage" }), undefined);
    assert.equal(RunTree.fromDottedOrder("garbage too"), undefined);
  } finally {
    process.emitWarning = original;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /ignoring a malformed langsmith-trace header "garbage"/);
});

test("Node to Node across processes: the second process's runs are children of the first's", async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, "logs");
    const first = await runScript("test/scripts/headers_out.js", dir);
    assert.equal(first.code, 0, first.stderr);
    const second = await runScript("test/scripts/headers_in.js", dir, {}, [first.stdout.trim()]);
    assert.equal(second.code, 0, second.stderr);
    const events = readEvents(dir);
    const client = onlyRun(events, "client").start;
    const server = onlyRun(events, "server").start;
    assert.equal(server.parent_run_id, client.run_id);
    assert.equal(server.trace_id, client.trace_id);
    assert.notEqual(server.pid, client.pid);
  } finally {
    tmp.remove();
  }
});
