/**
 * jsontrace for Node: LangSmith's `traceable`, recording runs to local JSON-lines files.
 *
 * ```ts
 * import { traceable } from "jsontrace";
 * const stream = traceable(function* () { yield* ["Hello", "World", "!"]; }, { name: "stream" });
 * for (const chunk of stream()) console.log(chunk);
 * ```
 *
 * Every call is appended to `./logs` (`JSONTRACE_DIR`, or `configure({ dir })`)
 * as `run.start` / `run.chunk` / `run.end` events, in the same files and format
 * as the Python library writes (`docs/format.md`), so `jsontrace-view ./logs`
 * shows Node and Python runs side by side.
 */

export { traceable, isTraceableFunction } from "./traceable.js";
export type { TraceableConfig, TraceableFunction, ProcessInputs, ProcessOutputs } from "./traceable.js";
export { RunTree } from "./run.js";
export type { KVMap } from "./run.js";
export { getCurrentRunTree, withRunTree } from "./context.js";
export type { HeadersLike } from "./headers.js";
export { configure, getConfig, resetDefaults } from "./config.js";
export type { Config, ConfigureOptions } from "./config.js";
export { WARNING_TYPE } from "./warn.js";
