// A busy traced app for the Python side to read back (tests/test_js_files.py): concurrent
// streams, nesting, errors, early stops, secrets and non-ASCII text, with small segments
// (JSONTRACE_MAX_BYTES) so runs span several files.
import { getCurrentRunTree, traceable } from "jsontrace";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const tokens = traceable(
  async function* ({ words }: { words: string[] }) {
    for (const word of words) {
      await sleep(0);
      yield word;
    }
  },
  { name: "tokens", run_type: "llm", aggregator: (chunks: string[]) => chunks.join(" ") },
);

const lookup = traceable(
  async ({ id }: { id: number }) => {
    await sleep(1);
    if (id % 7 === 3) throw new RangeError(`no document ${id}`);
    return { id, text: `document ${id} — ünïcödé ✓`, api_key: "sk-test-0123456789abcdefghij" };
  },
  { name: "lookup", run_type: "retriever" },
);

const answer = traceable(
  async ({ question, n }: { question: string; n: number }) => {
    getCurrentRunTree().addMetadata({ n });
    const docs = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => lookup({ id: n * 3 + i })));
    let text = "";
    for await (const word of tokens({ words: question.split(" ") })) {
      text += word;
      if (n % 5 === 4 && text.length > 5) break; // an early stop now and then
    }
    return { text, found: docs.filter((d) => d.status === "fulfilled").length };
  },
  { name: "answer", tags: ["workload"] },
);

const questions = Array.from({ length: 20 }, (_, n) => ({ question: `what is item number ${n} made of`, n }));
const results = await Promise.all(questions.map((q) => answer(q)));
console.log(results.length);
