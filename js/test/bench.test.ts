/**
 * The benchmark keeps working: its quick run (tiny sizes, as CI runs the Python ones)
 * prints every row with a number for each contender. The numbers are not judged here.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { JS_ROOT } from "./helpers.js";

test("bench/overhead.ts --quick measures jsontrace, LangSmith (loopback sink) and the floor", async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--expose-gc", join(JS_ROOT, "build", "bench", "overhead.js"), "--quick"],
      { timeout: 120_000 },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    );
  });
  for (const row of ["sync call", "async call, awaited", "sync generator, per chunk", "async generator, per chunk"]) {
    const lines = stdout.split("\n").filter((line) => line.startsWith(`| ${row}`));
    assert.equal(lines.length, 2, `${row}: a wall-clock and a CPU row`);
    for (const line of lines) {
      const cells = line.split("|").slice(2, 5).map((cell) => cell.trim());
      assert.ok(cells.every((cell) => /^\d+\.\d\d$/.test(cell)), `${line}: jsontrace, LangSmith and floor measured`);
    }
  }
  assert.match(stdout, /\| tracing off: sync call +\| +\d+\.\d\d \|/);
});
