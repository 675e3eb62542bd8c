// What runs inherit from the runs they nest under (twin of inherit.py): tags and metadata,
// each tag once down a recursion, what is added while a run runs reaching the children
// started after, the root's project, and reference_example_id and usage_metadata kept
// by their own run.
import { getCurrentRunTree, traceable } from "jsontrace";

const leaf = traceable(() => "leaf", { name: "leaf" });

const rec: (input: { n: number }) => string = traceable(
  ({ n }: { n: number }): string => (n ? rec({ n: n - 1 }) : leaf()),
  { name: "rec", tags: ["rec"] },
);

const child = traceable(() => leaf(), {
  name: "child",
  project_name: "child-project",
  tags: ["c"],
  metadata: { k: "child" },
});

const root = traceable(
  () => {
    child();
    const run = getCurrentRunTree();
    run.addTags("late");
    run.addMetadata({ usage_metadata: { input_tokens: 1, output_tokens: 1 }, step: 2 });
    return rec({ n: 2 });
  },
  {
    name: "root",
    project_name: "root-project",
    tags: ["r"],
    metadata: { k: "root", tenant: "acme", reference_example_id: "ex-1" },
  },
);

console.log(root());
