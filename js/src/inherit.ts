/**
 * What a run inherits from the run it starts under: the Python side's rules
 * (`jsontrace/_tracing_context.py`, `place`; `docs/format.md`), so that the
 * same program records the same tags and metadata in both languages:
 *
 * ```
 * metadata = {...parent's, ...own}    // own: getInvocationParams', then the config's
 * tags     = [...parent's, ...own]    // each tag once
 * ```
 *
 * "parent's" are the parent run's tags and metadata as they are when the child
 * starts (so `addTags` and `addMetadata` reach the children started after), or
 * a remote parent's from its `baggage` header. Where LangSmith's TypeScript SDK
 * differs, the Python side's rule wins (js/README.md): tags are inherited too,
 * each once (no repeats down a recursion); the config's `project_name` applies
 * only where nothing inherited names a project; `reference_example_id` and
 * `usage_metadata` stay the run's own (a child inheriting its parent's token
 * usage would count it twice in the trace's totals).
 */

import type { KVMap } from "./run.js";

/** Metadata key of LangSmith's `project_name`. */
export const PROJECT = "project";
/** Metadata key of LangSmith's `reference_example_id`: a run's own, never inherited or sent. */
export const REFERENCE_EXAMPLE_ID = "reference_example_id";
/** Metadata key LangSmith keeps token usage in: a run's own, never inherited. */
export const USAGE_METADATA = "usage_metadata";

/** The tags and metadata a parent passes on. */
export interface Inheritable {
  readonly tags: readonly string[];
  readonly metadata: Readonly<KVMap>;
}

/** A new run's tags and metadata under `parent` (undefined: a root), from its own and its `project_name`. */
export function inherit(
  parent: Inheritable | undefined,
  ownTags: readonly string[],
  ownMetadata: Readonly<KVMap>,
  projectName: string | undefined,
): { tags: string[]; metadata: KVMap } {
  const parentTags = parent?.tags;
  const tags = parentTags !== undefined && parentTags.length > 0 ? [...new Set([...parentTags, ...ownTags])] : [...ownTags];
  const parentMetadata = parent?.metadata;
  const inherits = parentMetadata !== undefined && Object.keys(parentMetadata).length > 0;
  if (!inherits && !projectName) return { tags, metadata: { ...ownMetadata } };
  // The project first: a project the parent names replaces it, in its place (as a Python dict
  // update does). Spreads, not Object.assign: a "__proto__" key from a header stays a key.
  let metadata: KVMap = projectName ? { [PROJECT]: projectName } : {};
  if (inherits) {
    metadata = { ...metadata, ...parentMetadata };
    delete metadata[REFERENCE_EXAMPLE_ID];
    delete metadata[USAGE_METADATA];
  }
  return { tags, metadata: { ...metadata, ...ownMetadata } };
}
