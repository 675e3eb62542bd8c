// Runs still open when the process exits normally are ended cancelled (or, waiting
// for an async aggregator, with their chunks and a trace warning).
import { traceable } from "jsontrace";

const never = traceable(
  function* () {
    yield "unused";
  },
  { name: "never_iterated" },
);
const half = traceable(
  function* () {
    yield "a";
    yield "b";
  },
  { name: "half_consumed" },
);
const pending = traceable(() => new Promise<never>(() => undefined), { name: "never_settles" });
const slowAggregator = traceable(
  function* () {
    yield "x";
  },
  { name: "slow_aggregator", aggregator: () => new Promise<never>(() => undefined) },
);

const keep = [never(), half()];
keep[1]!.next();
void pending();
for (const _ of slowAggregator());
console.log("exiting");
