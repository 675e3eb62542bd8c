/**
 * The current run, kept in an `AsyncLocalStorage`.
 *
 * Node carries the store across `await`, promise callbacks, timers and
 * `Promise.all`, so a traced call made anywhere inside another's body (or
 * inside a callback it scheduled) is its child. A traced function with
 * `tracingEnabled: false` stores a "disabled" marker instead, so that the
 * traced calls it makes are not traced either unless they force it, as in
 * LangSmith.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { RunTree } from "./run.js";

/** Stored while a function with `tracingEnabled: false` runs; `parent` is the run around it. */
export interface Disabled {
  readonly disabled: true;
  readonly parent: RunTree | undefined;
}

export type Store = RunTree | Disabled;

export const storage = new AsyncLocalStorage<Store>();

export function isDisabled(store: Store | undefined): store is Disabled {
  return store !== undefined && (store as Disabled).disabled === true;
}

/** The run a traced call made here would be the child of (a disabled marker's parent too). */
export function parentRun(store: Store | undefined): RunTree | undefined {
  if (store === undefined) return undefined;
  return isDisabled(store) ? store.parent : store;
}

/**
 * The run whose body is executing here. Like LangSmith's: throws outside traced
 * code unless `permitAbsentRunTree` is true, then it returns undefined.
 */
export function getCurrentRunTree(): RunTree;
export function getCurrentRunTree(permitAbsentRunTree: false): RunTree;
export function getCurrentRunTree(permitAbsentRunTree: boolean): RunTree | undefined;
export function getCurrentRunTree(permitAbsentRunTree = false): RunTree | undefined {
  const store = storage.getStore();
  const run = store === undefined || isDisabled(store) ? undefined : store;
  if (run === undefined && !permitAbsentRunTree) {
    throw new Error(
      "Could not get the current run tree: call getCurrentRunTree() inside a traceable function " +
        "with tracing enabled, or pass true to get undefined instead.",
    );
  }
  return run;
}

/**
 * Run `fn` with `runTree` as the current run, so the traced calls it makes are its
 * children: for a parent from another process (`RunTree.fromHeaders(headers)`).
 * As LangSmith's, it returns a promise of `fn`'s (awaited) result.
 */
export function withRunTree<Fn extends () => unknown>(runTree: RunTree, fn: Fn): Promise<Awaited<ReturnType<Fn>>> {
  return new Promise<Awaited<ReturnType<Fn>>>((resolve, reject) => {
    storage.run(runTree, () => {
      try {
        Promise.resolve(fn() as Awaited<ReturnType<Fn>>).then(resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
  });
}
