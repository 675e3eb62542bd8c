// Streams tokens slowly inside a traced parent until it is killed (the SIGKILL test).
import { traceable } from "jsontrace";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stream = traceable(
  async function* () {
    for (let i = 0; i < 100_000; i++) {
      yield `token${i} `;
      await sleep(1);
    }
  },
  { name: "stream", run_type: "llm", aggregator: (chunks: string[]) => chunks.join("") },
);

const app = traceable(
  async () => {
    for await (const _ of stream()) {
      // consume
    }
  },
  { name: "app" },
);

await app();
