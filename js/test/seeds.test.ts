/**
 * The issue's two TypeScript examples, exactly as printed there: the program files are
 * those texts (only the import names jsontrace), and they print what LangSmith's print.
 * (programs.json checks the events they leave against the Python twins'.)
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { JS_ROOT, readEvents, runScript, tempDir } from "./helpers.js";

const SEED_1 = `import { traceable } from "jsontrace";
const myGenerator = traceable(function* () {
  for (const chunk of ["Hello", "World", "!"]) {
      yield chunk;
  }
});
for (const output of myGenerator()) {
  console.log(output);
}
`;

const SEED_2 = `import { traceable } from "jsontrace";
const concatenateStrings = (outputs: string[]) => outputs.join("");
const myGenerator = traceable(function* () {
  for (const chunk of ["Hello", "World", "!"]) {
      yield chunk;
  }
}, { aggregator: concatenateStrings });
for (const output of await myGenerator()) {
  console.log(output);
}
`;

for (const [name, text, outputs] of [
  ["seed_generator", SEED_1, ["Hello", "World", "!"]],
  ["seed_aggregator", SEED_2, "HelloWorld!"],
] as const) {
  test(`${name}: the issue's example runs unchanged but for the import, prints Hello World ! and streams three chunks`, async () => {
    assert.equal(readFileSync(join(JS_ROOT, "test", "programs", `${name}.ts`), "utf8"), text);
    const tmp = tempDir();
    try {
      const dir = join(tmp.path, "logs");
      const done = await runScript(`test/programs/${name}.js`, dir);
      assert.equal(done.code, 0, done.stderr);
      assert.equal(done.stdout, "Hello\nWorld\n!\n");
      const events = readEvents(dir);
      assert.deepEqual(events.map((e) => e.event), ["run.start", "run.chunk", "run.chunk", "run.chunk", "run.end"]);
      assert.deepEqual(events.slice(1, 4).map((e) => e.chunk), ["Hello", "World", "!"]);
      assert.deepEqual(events[4]!.outputs, outputs);
      assert.equal(events[4]!.status, "ok");
    } finally {
      tmp.remove();
    }
  });
}
