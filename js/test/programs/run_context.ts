// Secrets redacted in a program's events; tags and metadata added while a run runs
// (twin of run_context.py).
import { getCurrentRunTree, traceable } from "jsontrace";

const callModel = traceable(({ prompt }: { prompt: string; api_key: string }) => `echo ${prompt}`, {
  name: "call_model",
  run_type: "llm",
});

const main = traceable(
  () => {
    const run = getCurrentRunTree();
    run.addMetadata({ step: 2 });
    run.addTags("late");
    return callModel({ prompt: "hi", api_key: "sk-live-0123456789abcdefghijklmnop" });
  },
  { name: "main", tags: ["t1"], metadata: { m: 1 } },
);

console.log(main());
