// Errors: a failing call, a stream that fails midway, a failing aggregator (twin of errors.py).
import { traceable } from "jsontrace";

class ValueError extends Error {
  override name = "ValueError";
}
class RuntimeError extends Error {
  override name = "RuntimeError";
}

const parse = traceable(
  ({ text }: { text: string }) => {
    if (!text) throw new ValueError("empty input");
    return text.length;
  },
  { name: "parse" },
);

const tokens = traceable(
  function* ({ n }: { n: number }) {
    for (let i = 0; i < n; i++) {
      if (i === 2) throw new RuntimeError("stream broke");
      yield i;
    }
  },
  { name: "tokens" },
);

const words = traceable(
  function* () {
    yield "x";
    yield "y";
  },
  {
    name: "words",
    aggregator: () => {
      throw new ValueError("nope");
    },
  },
);

const main = traceable(
  () => {
    const out: unknown[] = [parse({ text: "hello" })];
    try {
      parse({ text: "" });
    } catch (error) {
      out.push((error as Error).message);
    }
    try {
      for (const token of tokens({ n: 5 })) out.push(token);
    } catch (error) {
      out.push((error as Error).message);
    }
    out.push(...words());
    return out;
  },
  { name: "main" },
);

console.log(JSON.stringify(main()));
