// Prints the headers of a traced run as JSON: what a Node client sends with a request.
import { getCurrentRunTree, traceable } from "jsontrace";

const client = traceable(() => JSON.stringify(getCurrentRunTree().toHeaders()), {
  name: "client",
  tags: ["node"],
  metadata: { side: "client" },
});
console.log(client());
