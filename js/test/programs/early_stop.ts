// A consumer that stops early: the generator's run is cancelled with the partial output
// (twin of early_stop.py).
import { traceable } from "jsontrace";

const letters = traceable(
  function* () {
    yield "a";
    yield "b";
    yield "c";
  },
  { name: "letters", aggregator: (chunks: string[]) => chunks.join("") },
);

const numbers = traceable(
  async function* () {
    for (const n of [1, 2, 3]) yield n;
  },
  { name: "numbers" },
);

const main = traceable(
  () => {
    const seen: string[] = [];
    for (const letter of letters()) {
      seen.push(letter);
      if (letter === "b") break;
    }
    return seen;
  },
  { name: "main" },
);

console.log(main().join(","));
for await (const n of numbers()) {
  if (n === 2) break;
}
