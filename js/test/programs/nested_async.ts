// A traced pipeline: two retrievals in parallel, then a streamed answer (twin of nested_async.py).
import { traceable } from "jsontrace";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const retrieve = traceable(
  async ({ query }: { query: string }) => {
    await sleep(1);
    return [`doc about ${query}`];
  },
  { name: "retrieve", run_type: "retriever" },
);

const streamAnswer = traceable(
  async function* ({ docs }: { docs: string[][] }) {
    void docs;
    for (const word of ["Based", " on", " the", " docs"]) {
      await sleep(0);
      yield word;
    }
  },
  { name: "stream_answer", run_type: "llm", aggregator: (chunks: string[]) => chunks.join("") },
);

const pipeline = traceable(
  async ({ question }: { question: string }) => {
    void question;
    const docs = await Promise.all(["a", "b"].map((query) => retrieve({ query })));
    let answer = "";
    for await (const token of streamAnswer({ docs })) answer += token;
    return { answer };
  },
  { name: "pipeline", metadata: { app: "conformance" } },
);

console.log((await pipeline({ question: "why?" })).answer);
