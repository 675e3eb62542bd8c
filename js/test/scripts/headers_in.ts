// Continues the trace named by headers (JSON in argv[2]) with a traced call: a Node server.
import { RunTree, traceable, withRunTree } from "jsontrace";

const headers = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;
const server = traceable((question: string) => `answer to ${question}`, { name: "server" });
const parent = RunTree.fromHeaders(headers);
console.log(parent === undefined ? server("no parent") : await withRunTree(parent, () => server("why")));
