/**
 * Per-call and per-chunk tracing overhead of jsontrace's `traceable` for Node, beside
 * LangSmith's TypeScript `traceable` and the floor, all in this one process and run.
 *
 *   npm run bench            # full run (about a minute)
 *   npm run bench:quick      # tiny sizes: checks that it runs
 *
 * Overhead = time with tracing minus the same untraced code, per operation.
 *
 * * jsontrace: the default configuration (redaction on), writing to a file.
 * * LangSmith: `traceable` with tracing on, posting to a loopback HTTP sink this
 *   script starts on 127.0.0.1 in a child process (it answers 200 to everything,
 *   keeps nothing, and is stopped at the end).
 *   LangSmith batches in the background: the foreground cost is what is shown, and
 *   its pending batches are awaited between repeats, outside the timing.
 * * floor: `JSON.stringify` of an event of the same shape plus one `fs.writeSync`
 *   per event: the least any durable JSON-lines tracer must do.
 *
 * LangSmith's traced sync function returns a promise, so its sync-call row awaits
 * each call (and says so); the async row awaits every contender.
 */

import { mkdtempSync, openSync, closeSync, writeSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { configure, traceable } from "jsontrace";

interface Sizes {
  calls: number;
  chunks: number; // per stream
  streams: number;
  repeats: number;
}

const FULL: Sizes = { calls: 20_000, chunks: 200, streams: 100, repeats: 7 };
const QUICK: Sizes = { calls: 300, chunks: 20, streams: 10, repeats: 2 };
const TOKEN = "token";

type Workloads = {
  call: (a: number, b: number) => unknown; // may return a promise: then it is awaited
  acall: (a: number, b: number) => Promise<number>;
  chunk: (n: number) => Iterable<string> | Promise<Iterable<string>>;
  achunk: (n: number) => AsyncIterable<string>;
};

// -- the workloads ------------------------------------------------------------------

const add = (a: number, b: number) => a + b;
const aadd = async (a: number, b: number) => a + b;
function* stream(n: number) {
  for (let i = 0; i < n; i++) yield TOKEN;
}
async function* astream(n: number) {
  for (let i = 0; i < n; i++) yield TOKEN;
}

const baseline: Workloads = { call: add, acall: aadd, chunk: stream, achunk: astream };

function jsontraceWorkloads(dir: string, enabled: boolean): Workloads {
  configure({ dir, enabled });
  return {
    call: traceable(add, { name: "add" }),
    acall: traceable(aadd, { name: "aadd" }),
    chunk: traceable(stream, { name: "stream" }),
    achunk: traceable(astream, { name: "astream" }),
  };
}

function floorWorkloads(dir: string): { workloads: Workloads; close: () => void } {
  const fd = openSync(join(dir, "floor.jsonl"), "a", 0o600);
  const id = "01a20c5b-2a3a-74f3-b984-ce135be17a49";
  const ts = "2026-11-24T07:00:30.906323Z";
  const write = (event: object) => writeSync(fd, `${JSON.stringify(event)}\n`);
  const start = (name: string, inputs: object) =>
    write({ event: "run.start", run_id: id, trace_id: id, v: 1, ts, parent_run_id: null, name, run_type: "chain", inputs, tags: [], metadata: {}, pid: 1, host: "h" });
  const end = (outputs: unknown) =>
    write({ event: "run.end", run_id: id, trace_id: id, v: 1, ts, status: "ok", outputs, error: null, chunk_count: 0, duration_ms: 0.1 });
  const chunk = (seq: number, value: string) => write({ event: "run.chunk", run_id: id, trace_id: id, v: 1, ts, seq, chunk: value });
  return {
    workloads: {
      call: (a, b) => {
        start("add", { args: [a, b] });
        const result = add(a, b);
        end(result);
        return result;
      },
      acall: async (a, b) => {
        start("aadd", { args: [a, b] });
        const result = await aadd(a, b);
        end(result);
        return result;
      },
      chunk: function* (n) {
        let seq = 0;
        for (const value of stream(n)) {
          chunk(seq++, value);
          yield value;
        }
      },
      achunk: async function* (n) {
        let seq = 0;
        for await (const value of astream(n)) {
          chunk(seq++, value);
          yield value;
        }
      },
    },
    close: () => closeSync(fd),
  };
}

// A loopback stand-in for the LangSmith API, in its own process (as the real service
// would be: its work must not be counted as the client's): 200 and "{}" to everything.
const SINK = `
const http = require("node:http");
const server = http.createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end("{}");
  });
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;

function startSink(): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ["-e", SINK], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.stdout.once("data", (data: Buffer) => {
      const port = Number(String(data).trim());
      resolve({
        port,
        stop: () =>
          new Promise<void>((done) => {
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}

async function langsmithWorkloads(): Promise<{ workloads: Workloads; settle: () => Promise<void>; close: () => Promise<void> } | null> {
  let ls: typeof import("langsmith");
  let lsTraceable: typeof import("langsmith/traceable").traceable;
  try {
    ls = await import("langsmith");
    lsTraceable = (await import("langsmith/traceable")).traceable;
  } catch {
    return null;
  }
  const sink = await startSink();
  const port = sink.port;
  process.env["LANGSMITH_TRACING"] = "true";
  process.env["LANGSMITH_ENDPOINT"] = `http://127.0.0.1:${port}`;
  process.env["LANGSMITH_API_KEY"] = "lsv2_pt_benchmark_only";
  process.env["LANGSMITH_PROJECT"] = "bench";
  const client = new ls.Client({ apiUrl: `http://127.0.0.1:${port}`, apiKey: "lsv2_pt_benchmark_only" });
  const settle = async () => {
    try {
      await client.awaitPendingTraceBatches();
    } catch {
      // the sink keeps nothing; a failed batch does not matter here
    }
  };
  return {
    workloads: {
      call: lsTraceable(add, { name: "add", client, tracingEnabled: true }),
      acall: lsTraceable(aadd, { name: "aadd", client, tracingEnabled: true }),
      chunk: lsTraceable(stream, { name: "stream", client, tracingEnabled: true }) as unknown as Workloads["chunk"],
      achunk: lsTraceable(astream, { name: "astream", client, tracingEnabled: true }) as unknown as Workloads["achunk"],
    },
    settle,
    close: async () => {
      await settle();
      await sink.stop();
    },
  };
}

// -- measuring ------------------------------------------------------------------------

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** Milliseconds per operation: wall clock (what the caller waits) and CPU (what it costs). */
interface Timing {
  wall: number;
  cpu: number;
}

const perChunk = (t: Timing, n: number): Timing => ({ wall: t.wall / n, cpu: t.cpu / n });

/**
 * Median milliseconds per operation of `op` (which runs `count` operations), over repeats.
 * Each repeat runs about `budgetMs` worth (at least 20 operations, at most `max`), so
 * that a slow contender does not make the whole run take minutes.
 */
async function timeOp(
  op: (count: number) => Promise<void> | void,
  repeats: number,
  max: number,
  settle: () => Promise<void>,
  budgetMs: number,
): Promise<Timing> {
  const probe = performance.now();
  await op(20);
  const each = Math.max((performance.now() - probe) / 20, 1e-6);
  const count = Math.max(20, Math.min(max, Math.round(budgetMs / each)));
  await settle();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    gc();
    const t = performance.now();
    const c = process.cpuUsage();
    await op(count);
    const used = process.cpuUsage(c);
    wall.push((performance.now() - t) / count);
    cpu.push((used.user + used.system) / 1000 / count);
    await settle(); // LangSmith's background batches: outside the timing
  }
  return { wall: median(wall), cpu: median(cpu) };
}

async function measure(w: Workloads, sizes: Sizes, settle: () => Promise<void> = async () => undefined): Promise<Record<string, Timing>> {
  // Warm up: the JIT, lazy set-up and first-use costs are not per-call costs.
  for (let i = 0; i < 300; i++) {
    await w.call(i, 2);
    await w.acall(i, 2);
    for (const _ of await w.chunk(5));
    for await (const _ of w.achunk(5));
  }
  await settle();
  const budget = sizes === QUICK ? 5 : 150;
  const n = sizes.chunks;
  return {
    call: await timeOp(
      async (count) => {
        for (let i = 0; i < count; i++) {
          const result = w.call(i, 2);
          if (result instanceof Promise) await result;
        }
      },
      sizes.repeats,
      sizes.calls,
      settle,
      budget,
    ),
    acall: await timeOp(
      async (count) => {
        for (let i = 0; i < count; i++) await w.acall(i, 2);
      },
      sizes.repeats,
      sizes.calls,
      settle,
      budget,
    ),
    // Per chunk: whole streams of n chunks, the stream's creation included once per stream.
    chunk: perChunk(
      await timeOp(
        async (count) => {
          for (let s = 0; s < count; s++) for (const _ of await w.chunk(n));
        },
        sizes.repeats,
        sizes.streams,
        settle,
        budget,
      ),
      n,
    ),
    achunk: perChunk(
      await timeOp(
        async (count) => {
          for (let s = 0; s < count; s++) for await (const _ of w.achunk(n));
        },
        sizes.repeats,
        sizes.streams,
        settle,
        budget,
      ),
      n,
    ),
  };
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const sizes = quick ? QUICK : FULL;
  const dir = mkdtempSync(join(tmpdir(), "jsontrace-bench-"));
  try {
    const results: Record<string, Record<string, Timing> | null> = {};
    results["baseline"] = await measure(baseline, sizes);
    results["jsontrace"] = await measure(jsontraceWorkloads(join(dir, "jsontrace"), true), sizes);
    const floor = floorWorkloads(dir);
    results["floor"] = await measure(floor.workloads, sizes);
    floor.close();
    const smith = await langsmithWorkloads();
    results["LangSmith"] = smith === null ? null : await measure(smith.workloads, sizes, smith.settle);
    await smith?.close();
    results["off"] = await measure(jsontraceWorkloads(join(dir, "off"), false), sizes);

    const base = results["baseline"]!;
    const overhead = (name: string, kind: string, clock: keyof Timing): number | null => {
      const row = results[name];
      return row == null ? null : Math.max(row[kind]![clock] - base[kind]![clock], 0) * 1000;
    };
    const cell = (value: number | null, width = 11) => (value === null ? "n/a" : value.toFixed(2)).padStart(width);
    const ratio = (a: number | null, b: number | null, width: number) =>
      (a === null || !b ? "n/a" : (a / b).toFixed(2)).padStart(width);
    const label = (text: string) => text.padEnd(38);
    const labels: Record<string, string> = {
      call: "sync call (LangSmith: awaited)",
      acall: "async call, awaited",
      chunk: "sync generator, per chunk",
      achunk: "async generator, per chunk",
    };
    const cpus = (await import("node:os")).cpus().length;
    console.log(`# jsontrace (Node) overhead, ${quick ? "quick" : "full"} run, Node ${process.version}, ${cpus} CPUs`);
    for (const [clock, title] of [
      ["wall", "wall clock: what the caller waits"],
      ["cpu", "CPU time of this process: what it costs (LangSmith's background sending included)"],
    ] as const) {
      console.log(`\noverhead per operation over the untraced code, µs, median of repeats; ${title}\n`);
      console.log(`| ${label("operation")} |   jsontrace |   LangSmith |       floor | jsontrace/LangSmith | jsontrace/floor |`);
      console.log(`|${"-".repeat(40)}|-------------|-------------|-------------|---------------------|-----------------|`);
      for (const [kind, text] of Object.entries(labels)) {
        const ours = overhead("jsontrace", kind, clock);
        const theirs = overhead("LangSmith", kind, clock);
        const least = overhead("floor", kind, clock);
        console.log(
          `| ${label(text)} | ${cell(ours)} | ${cell(theirs)} | ${cell(least)} | ${ratio(ours, theirs, 19)} | ${ratio(ours, least, 15)} |`,
        );
      }
      for (const [kind, text] of Object.entries(labels)) {
        console.log(
          `| ${label(`tracing off: ${text.replace(" (LangSmith: awaited)", "")}`)} | ${cell(overhead("off", kind, clock))} | ${"".padStart(11)} | ${"".padStart(11)} | ${"".padStart(19)} | ${"".padStart(15)} |`,
        );
      }
    }
    console.log(
      `\nuntraced baseline, µs (wall): ${Object.entries(base)
        .map(([k, v]) => `${k} ${(v.wall * 1000).toFixed(3)}`)
        .join(", ")}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
