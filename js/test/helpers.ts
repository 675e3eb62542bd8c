/**
 * What the tests share: temporary trace directories, reading events back, the
 * conformance cases and their templates, running a program in a child process.
 */

import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
// In-process tests use the library compiled beside them (build/src): one instance, whose
// internals they may reach. Programs run in child processes import "jsontrace" (dist/).
import { configure, resetDefaults } from "../src/index.js";
import { forgetReports } from "../src/warn.js";
import { closeWriter } from "../src/pipeline.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The js/ directory (tests run from js/build/test). */
export const JS_ROOT = resolve(here, "..", "..");
/** The repository root. */
export const REPO_ROOT = resolve(JS_ROOT, "..");

export type Event = Record<string, any>;

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = "jsontrace-test-"): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Point the tracer at a new directory `logs` inside a temporary one, from the
 * environment's defaults: call at the start of a test, `done()` at its end.
 */
export function freshTraces(): { dir: string; events: () => Event[]; files: () => string[]; done: () => void } {
  const tmp = tempDir();
  const dir = join(tmp.path, "logs");
  closeWriter();
  resetDefaults({});
  configure({ dir });
  forgetReports();
  return {
    dir,
    events: () => readEvents(dir),
    files: () => segmentFiles(dir),
    done: () => {
      closeWriter();
      resetDefaults({});
      forgetReports();
      tmp.remove();
    },
  };
}

/** The segment files of a directory, sorted by name. */
export function segmentFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(".jsonl"))
      .sort();
  } catch {
    return [];
  }
}

/** Every event of a directory's segment files, files in name order, lines in order. */
export function readEvents(dir: string): Event[] {
  const events: Event[] = [];
  for (const name of segmentFiles(dir)) {
    const text = readFileSync(join(dir, name), "utf8");
    for (const line of text.split("\n")) if (line) events.push(JSON.parse(line) as Event);
  }
  return events;
}

/** The runs of a list of events by name: start, chunks, end. */
export function runsByName(events: Event[]): Map<string, { start?: Event; chunks: Event[]; end?: Event }[]> {
  const byId = new Map<string, { start?: Event; chunks: Event[]; end?: Event }>();
  const order: string[] = [];
  for (const event of events) {
    let run = byId.get(event.run_id);
    if (run === undefined) {
      run = { chunks: [] };
      byId.set(event.run_id, run);
      order.push(event.run_id);
    }
    if (event.event === "run.start") run.start = event;
    else if (event.event === "run.chunk") run.chunks.push(event);
    else if (event.event === "run.end") run.end = event;
  }
  const byName = new Map<string, { start?: Event; chunks: Event[]; end?: Event }[]>();
  for (const id of order) {
    const run = byId.get(id)!;
    const name = run.start?.name ?? "?";
    byName.set(name, [...(byName.get(name) ?? []), run]);
  }
  return byName;
}

/** The only run called `name`; throws when there are none or several. */
export function onlyRun(events: Event[], name: string): { start: Event; chunks: Event[]; end: Event | undefined } {
  const runs = runsByName(events).get(name) ?? [];
  if (runs.length !== 1) {
    throw new Error(`expected one run named ${name}, found ${runs.length}: ${[...runsByName(events).keys()].join(", ")}`);
  }
  const run = runs[0]!;
  if (run.start === undefined) throw new Error(`run ${name} has no start`);
  return { start: run.start, chunks: run.chunks, end: run.end };
}

// -- conformance cases ---------------------------------------------------------------

export function loadCases(name: string): any {
  return JSON.parse(readFileSync(join(REPO_ROOT, "tests", "conformance", name), "utf8"));
}

/** A value with the README's templates ($repeat, $list, $nest, $int) built. */
export function expand(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, arg] = entries[0]! as [string, any];
      if (key === "$repeat") return (arg[0] as string).repeat(arg[1] as number);
      if (key === "$list") return Array.from({ length: arg[1] as number }, () => expand(arg[0]));
      if (key === "$nest") {
        let out = expand(arg[1]);
        for (let i = 0; i < (arg[0] as number); i++) out = [out];
        return out;
      }
      if (key === "$int") return BigInt(arg as string);
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, expand(item)]));
  }
  return value;
}

export function expandLine(line: string | unknown[]): string {
  if (typeof line === "string") return line;
  return line.map((part) => (typeof part === "string" ? part : (expand(part) as string))).join("");
}

/** An expected value with {"$lang": {...}} resolved to TypeScript's. */
export function forTypeScript(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(forTypeScript);
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$lang") return (value as { $lang: { typescript: unknown } }).$lang.typescript;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, forTypeScript(item)]));
  }
  return value;
}

const TS_TEXT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

/** Runs as tests/conformance/README.md's "Normalising" section says. */
export function normalise(events: Event[]): Array<{ parent: number | null; start: Event; chunks: Event[]; end: Event | null }> {
  const numbers = new Map<string, number>();
  for (const event of events) if (event.event === "run.start" && !numbers.has(event.run_id)) numbers.set(event.run_id, numbers.size);
  const number = (id: string | null): string | null => (id === null ? null : `#${numbers.get(id)}`);
  const runs = Array.from({ length: numbers.size }, () => ({ parent: null as number | null, start: null as any, chunks: [] as Event[], end: null as any }));
  for (const event of events) {
    const out: Event = {};
    for (const [key, raw] of Object.entries(event)) {
      let value: unknown = raw;
      if (key === "run_id" || key === "trace_id" || key === "parent_run_id") value = number(raw as string | null);
      else if (key === "ts") {
        if (typeof raw !== "string" || !TS_TEXT.test(raw)) throw new Error(`bad ts ${raw}`);
        value = "<ts>";
      } else if (key === "pid") {
        if (!Number.isInteger(raw) || (raw as number) <= 0) throw new Error(`bad pid ${raw}`);
        value = "<pid>";
      } else if (key === "host") {
        if (typeof raw !== "string" || !raw) throw new Error(`bad host ${raw}`);
        value = "<host>";
      } else if ((key === "duration_ms" || key === "first_chunk_ms") && raw !== null) {
        if (typeof raw !== "number" || raw < 0) throw new Error(`bad ${key} ${raw}`);
        value = "<ms>";
      } else if (key === "error" && raw !== null) {
        if (typeof raw.traceback !== "string" || !raw.traceback) throw new Error("bad traceback");
        value = { ...raw, traceback: "<traceback>" };
      }
      out[key] = value;
    }
    const run = runs[numbers.get(event.run_id)!]!;
    if (event.event === "run.start") {
      run.start = out;
      run.parent = event.parent_run_id === null ? null : numbers.get(event.parent_run_id)!;
    } else if (event.event === "run.chunk") run.chunks.push(out);
    else run.end = out;
  }
  return runs;
}

// -- child processes -----------------------------------------------------------------

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a built script (a path relative to js/build) with Node, JSONTRACE_DIR set. */
export function runScript(script: string, dir: string, env: Record<string, string> = {}, args: string[] = []): Promise<Finished> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("JSONTRACE_") && key !== "NODE_TEST_CONTEXT") clean[key] = value;
  }
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [join(JS_ROOT, "build", script), ...args],
      { env: { ...clean, JSONTRACE_DIR: dir, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolvePromise({
          code: failure === null ? 0 : typeof failure.code === "number" ? failure.code : null,
          signal: failure?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** The built JavaScript of a program under js/test (`js/test/programs/x.ts` -> `test/programs/x.js`). */
export function builtProgram(repoPath: string): string {
  return repoPath.replace(/^js\//, "").replace(/\.ts$/, ".js");
}
