// A generator dropped unfinished is ended cancelled when it is garbage-collected
// (run with --expose-gc). Prints whether the end was written before exit.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { traceable } from "jsontrace";

const gen = traceable(
  function* () {
    yield 1;
    yield 2;
  },
  { name: "dropped" },
);

(() => {
  const it = gen();
  it.next();
})();

const dir = process.env["JSONTRACE_DIR"]!;
const ended = () =>
  readdirSync(dir).some((name) => readFileSync(join(dir, name), "utf8").includes('"event":"run.end"'));
for (let i = 0; i < 50 && !ended(); i++) {
  (globalThis as unknown as { gc: () => void }).gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
console.log(ended() ? "ended before exit" : "not ended");
