// A generator's return value, recorded after its chunks and seen by the aggregator; null is
// not recorded (twin of generator_return.py).
import { traceable } from "jsontrace";

const count = traceable(
  function* ({ n }: { n: number }) {
    for (let i = 0; i < n; i++) yield i;
    return "done";
  },
  { name: "count" },
);

const words = traceable(
  function* () {
    yield "a";
    yield "b";
    return "c";
  },
  { name: "words", aggregator: (values: string[]) => values.join("+") },
);

const noReturn = traceable(
  function* () {
    yield 1;
    return null;
  },
  { name: "no_return" },
);

const main = traceable(() => [...count({ n: 2 }), ...words(), ...noReturn()], { name: "main" });

console.log(main().join(" "));
