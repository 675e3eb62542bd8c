/**
 * Whole processes: a SIGKILL mid-stream leaves only whole lines; runs still open at a
 * normal exit are ended; a generator dropped unfinished is ended when collected.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { JS_ROOT, readEvents, runScript, runsByName, tempDir } from "./helpers.js";

function chunksOnDisk(dir: string): number {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(".jsonl"))
      .reduce((n, name) => n + (readFileSync(join(dir, name), "utf8").match(/"run\.chunk"/g)?.length ?? 0), 0);
  } catch {
    return 0;
  }
}

test("a process killed with SIGKILL mid-stream leaves only whole lines, every chunk reported, no end", async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, "logs");
    const env = { ...process.env, JSONTRACE_DIR: dir, JSONTRACE_MAX_BYTES: "4k" };
    const child = spawn(process.execPath, [join(JS_ROOT, "build", "test", "scripts", "streamer.js")], { env, stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 30_000;
    while (chunksOnDisk(dir) < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");
    const files = readdirSync(dir).filter((name) => name.endsWith(".jsonl"));
    assert.ok(files.length > 1, "rotation happened while streaming (4k segments)");
    for (const name of files) {
      const text = readFileSync(join(dir, name), "utf8");
      assert.ok(text.endsWith("\n"), `${name} ends in a whole line`);
      for (const line of text.split("\n").filter(Boolean)) JSON.parse(line); // every line parses
    }
    const runs = runsByName(readEvents(dir));
    const stream = runs.get("stream")![0]!;
    const app = runs.get("app")![0]!;
    assert.equal(stream.end, undefined);
    assert.equal(app.end, undefined);
    const seqs = stream.chunks.map((c) => c.seq as number);
    assert.ok(seqs.length >= 200);
    assert.deepEqual(seqs, seqs.map((_, i) => i), "chunks 0..n-1, in order, without gaps");
    assert.deepEqual(stream.chunks.map((c) => c.chunk), seqs.map((i) => `token${i} `));
    assert.equal(stream.start?.parent_run_id, app.start?.run_id);
  } finally {
    tmp.remove();
  }
});

test("runs still open at a normal exit are ended: cancelled, or with their chunks when an aggregator never finished", async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, "logs");
    const done = await runScript("test/scripts/open_at_exit.js", dir);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout, "exiting\n");
    const runs = runsByName(readEvents(dir));
    const end = (name: string) => runs.get(name)![0]!.end!;
    assert.equal(end("never_iterated").status, "cancelled");
    assert.deepEqual(end("never_iterated").outputs, []);
    assert.equal(end("half_consumed").status, "cancelled");
    assert.deepEqual(end("half_consumed").outputs, ["a"]);
    assert.equal(end("never_settles").status, "cancelled");
    assert.equal(end("slow_aggregator").status, "ok");
    assert.deepEqual(end("slow_aggregator").outputs, ["x"]);
    assert.deepEqual(end("slow_aggregator").trace_warnings, [
      "aggregator of 'slow_aggregator' had not finished when the process exited",
    ]);
  } finally {
    tmp.remove();
  }
});

test("a generator dropped unfinished is ended cancelled when it is garbage-collected", async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, "logs");
    const done = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["--expose-gc", join(JS_ROOT, "build", "test", "scripts", "dropped.js")], {
        env: { ...process.env, JSONTRACE_DIR: dir },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (data: Buffer) => (stdout += String(data)));
      child.stderr.on("data", (data: Buffer) => (stderr += String(data)));
      child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout, "ended before exit\n");
    const end = runsByName(readEvents(dir)).get("dropped")![0]!.end!;
    assert.equal(end.status, "cancelled");
    assert.deepEqual(end.outputs, [1]);
  } finally {
    tmp.remove();
  }
});
