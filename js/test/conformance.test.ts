/**
 * The shared conformance cases (tests/conformance/*.json) run against the TypeScript writer.
 *
 * The Python suite runs the same cases (tests/test_conformance.py), so the two
 * writers cannot drift apart; tests/conformance/README.md describes the files.
 */

import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, mock, test } from "node:test";
import { fileStamp, formatTimestamp } from "../src/clock.js";
import { fromEnv, resetDefaults } from "../src/config.js";
import { formatBaggage, parseHeaders, segment, traceparent } from "../src/headers.js";
import { Redactor } from "../src/redact.js";
import { Renderer } from "../src/render.js";
import { forgetReports } from "../src/warn.js";
import { fileHost, segmentName } from "../src/writer.js";
import {
  builtProgram,
  expand,
  expandLine,
  forTypeScript,
  loadCases,
  normalise,
  readEvents,
  runScript,
  tempDir,
  type Event,
} from "./helpers.js";

const DEFAULT_LIMITS = { maxChars: 100_000, maxItems: 10_000 };

function assertSameKeys(actual: Event, expected: Event, what: string): void {
  assert.deepEqual(Object.keys(actual), Object.keys(expected), `key order of ${what}`);
}

describe("redaction vectors (tests/conformance/redaction.json)", () => {
  for (const vector of loadCases("redaction.json").cases) {
    test(`${vector.id}: ${vector.description}`, () => {
      const config = vector.config ?? {};
      const redactor = new Redactor(config.redact_keys ?? [], config.redact_patterns ?? []);
      const line = new Renderer(DEFAULT_LIMITS, redactor).render(vector.event);
      const written = JSON.parse(line) as Event;
      assert.deepStrictEqual(written, vector.expected);
      assertSameKeys(written, vector.expected, "the event");
    });
  }
});

describe("serialisation vectors (tests/conformance/serialization.json)", () => {
  for (const vector of loadCases("serialization.json").cases) {
    test(`${vector.id}: ${vector.description}`, () => {
      const limits = vector.limits ?? {};
      const renderer = new Renderer(
        { maxChars: limits.max_chars ?? 100_000, maxItems: limits.max_items ?? 10_000 },
        vector.redact ? new Redactor() : null,
      );
      const line = renderer.render(expand(vector.event) as Event);
      const expected = expandLine(vector.line);
      assert.equal(Buffer.from(line).equals(Buffer.from(expected)), true, `got ${line.slice(0, 300)}`);
    });
  }
});

describe("configuration vectors (tests/conformance/config.json)", () => {
  const cases = loadCases("config.json");
  for (const vector of cases.env) {
    test(`env ${vector.id}: ${vector.description}`, () => {
      forgetReports();
      const warn = mock.method(process, "emitWarning", () => undefined);
      try {
        const config = fromEnv(vector.env) as unknown as Record<string, unknown>;
        const names: Record<string, string> = { dir: "dir", enabled: "enabled", max_bytes: "maxBytes", redact: "redact" };
        for (const [key, expected] of Object.entries(vector.expected)) {
          const value = config[names[key]!];
          assert.deepEqual(value, key === "dir" ? resolve(expected as string) : expected);
        }
        assert.equal(warn.mock.callCount() > 0, vector.warns, "a warning exactly when the case says");
      } finally {
        warn.mock.restore();
        forgetReports();
      }
    });
  }
  test("segment file names: start stamp, host as files show it, pid, five-digit segment", () => {
    for (const vector of cases.file_names) {
      assert.equal(segmentName(vector.started, fileHost(vector.host), vector.pid, vector.segment), vector.name);
    }
  });
  for (const vector of cases.timestamps) {
    test(`timestamp ${vector.epoch_us}: ts text and file-name stamp`, () => {
      assert.equal(formatTimestamp(vector.epoch_us), vector.ts);
      assert.equal(fileStamp(Math.floor(vector.epoch_us / 1000)), vector.file);
    });
  }
});

describe("program vectors (tests/conformance/programs.json)", () => {
  for (const vector of loadCases("programs.json").cases) {
    test(`${vector.id}: ${vector.description}`, async () => {
      const tmp = tempDir();
      try {
        const dir = resolve(tmp.path, "logs");
        const done = await runScript(builtProgram(vector.typescript), dir);
        assert.equal(done.code, 0, done.stderr);
        assert.equal(done.stdout, vector.stdout);
        const runs = normalise(readEvents(dir));
        const expected = forTypeScript(vector.runs) as typeof runs;
        assert.deepStrictEqual(runs, expected);
        runs.forEach((run, i) => {
          assertSameKeys(run.start, expected[i]!.start, `run #${i} start`);
          assertSameKeys(run.end!, expected[i]!.end!, `run #${i} end`);
          run.chunks.forEach((chunk, j) => assertSameKeys(chunk, expected[i]!.chunks[j]!, `run #${i} chunk ${j}`));
        });
      } finally {
        tmp.remove();
      }
    });
  }
});

describe("header vectors (tests/conformance/headers.json)", () => {
  const cases = loadCases("headers.json");
  for (const vector of cases.write) {
    test(`write ${vector.id}: ${vector.description}`, () => {
      resetDefaults({});
      const runs = vector.runs as Array<{ start_us: number; id: string }>;
      const written: Record<string, string> = {
        "langsmith-trace": runs.map((run) => segment(run.start_us, run.id)).join("."),
      };
      const baggage = formatBaggage(vector.metadata, vector.tags);
      if (baggage) written["baggage"] = baggage;
      written["traceparent"] = traceparent(runs[0]!.id, runs[runs.length - 1]!.id);
      assert.deepStrictEqual(written, vector.headers);
      assert.deepEqual(Object.keys(written), Object.keys(vector.headers), "header order");
    });
  }
  for (const vector of cases.read) {
    test(`read ${vector.id}: ${vector.description}`, () => {
      forgetReports();
      const warn = mock.method(process, "emitWarning", () => undefined);
      let parent;
      try {
        parent = parseHeaders(vector.headers, 1_795_503_641_123_456);
        assert.equal(warn.mock.callCount() > 0, vector.warns, "a warning exactly when the case says");
      } finally {
        warn.mock.restore();
        forgetReports();
      }
      if (vector.parent === null) {
        assert.equal(parent, undefined);
        return;
      }
      assert.ok(parent);
      const got: Record<string, unknown> = {
        trace_id: parent.trace_id,
        run_id: parent.id,
        parent_run_id: parent.parent_run_id ?? null,
        dotted_order: parent.dotted_order,
        metadata: parent.metadata,
        tags: parent.tags,
      };
      if (typeof vector.parent.dotted_order === "object") {
        const segments = parent.dotted_order.split(".");
        assert.deepEqual(segments.map((part) => part.slice(-36)), vector.parent.dotted_order.$segment_ids);
        for (const part of segments) assert.match(part.slice(0, -36), /^\d{8}T\d{12}Z$/);
        got["dotted_order"] = vector.parent.dotted_order;
      }
      assert.deepStrictEqual(got, vector.parent);
    });
  }
});
