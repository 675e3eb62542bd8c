/**
 * The small modules: JavaScript values as JSON, ids, the clock, configuration.
 * (What both writers share is in conformance.test.ts.)
 */

import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { epochMicros, formatTimestamp } from "../src/clock.js";
import { configure, getConfig, resetDefaults } from "../src/config.js";
import { uuid7 } from "../src/ids.js";
import { Redactor } from "../src/redact.js";
import { Renderer } from "../src/render.js";
import { forgetReports } from "../src/warn.js";

const limits = { maxChars: 100_000, maxItems: 10_000 };
const render = (inputs: unknown, redact = false) =>
  JSON.parse(new Renderer(limits, redact ? new Redactor() : null).render({ event: "run.start", inputs })).inputs;

describe("JavaScript values as JSON", () => {
  test("Map, Set, Date, RegExp, boxed values and undefined are converted as documented", () => {
    assert.deepEqual(
      render({
        map: new Map<unknown, unknown>([["a", 1], [2, "b"]]),
        set: new Set([1, 2]),
        date: new Date("2026-11-24T07:00:41.123Z"),
        bad: new Date(Number.NaN),
        re: /ab+c/gi,
        boxed: [new String("s"), new Number(2), new Boolean(false)],
        missing: undefined,
        holes: [undefined, null],
      }),
      {
        map: { a: 1, 2: "b" },
        set: [1, 2],
        date: "2026-11-24T07:00:41.123Z",
        bad: null,
        re: "/ab+c/gi",
        boxed: ["s", 2, false],
        holes: [null, null],
      },
    );
  });

  test("bytes become UTF-8 text, or {$bytes_b64} when they are not UTF-8 (a BOM is kept)", () => {
    assert.deepEqual(render([Buffer.from("héllo"), new Uint8Array([0xff, 0x00]), Buffer.from("\ufeffx")]), [
      "héllo",
      { $bytes_b64: "/wA=" },
      "\ufeffx",
    ]);
  });

  test("errors become {type, message}; class instances their own fields; functions and symbols text", () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
      norm() {
        return Math.hypot(this.x, this.y);
      }
    }
    function tool() {}
    assert.deepEqual(render([new RangeError("r"), new Point(1, 2), tool, () => 1, Symbol("s")]), [
      { type: "RangeError", message: "r" },
      { x: 1, y: 2 },
      "<function tool>",
      "<function (anonymous)>",
      "Symbol(s)",
    ]);
  });

  test("toJSON is used; other built-in objects are named", () => {
    assert.deepEqual(render([new URL("https://example.com/a"), { toJSON: () => ({ v: 1 }) }, Promise.resolve(1), new WeakMap()]), [
      "https://example.com/a",
      { v: 1 },
      "<Promise>",
      "<WeakMap>",
    ]);
  });

  test("bigints are integers; safe integers are integers; other numbers are written as orjson writes floats", () => {
    const line = new Renderer(limits, null).render({ event: "x", inputs: [10n, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 0.1, -0, Number.NaN] });
    assert.equal(line, '{"event":"x","inputs":[10,9007199254740991,9007199254740992.0,1.152921504606847e+18,0.1,0,null]}\n');
  });

  test("a cycle is written the careful way as <cycle: ...>; a shared (non-cyclic) object is written twice", () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic["self"] = cyclic;
    const shared = { s: 1 };
    assert.deepEqual(render({ cyclic, pair: [shared, shared] }), {
      cyclic: { name: "loop", self: "<cycle: Object>" },
      pair: [{ s: 1 }, { s: 1 }],
    });
  });

  test("a cycle through many branches is found at once (no exponential walk)", () => {
    const node: Record<string, unknown> = {};
    for (let i = 0; i < 8; i++) node[`k${i}`] = node;
    const started = performance.now();
    const out = render(node);
    assert.equal(out.k0, "<cycle: Object>");
    assert.ok(performance.now() - started < 1000);
  });

  test("a key '__proto__' from data is an ordinary key, also when redacted", () => {
    const data = JSON.parse('{"__proto__": {"token": "t"}, "a": 1}');
    assert.deepEqual(Object.keys(render(data, true)), ["__proto__", "a"]);
    const line = new Renderer(limits, new Redactor()).render({ event: "x", inputs: data });
    assert.equal(line, '{"event":"x","inputs":{"__proto__":{"token":"[REDACTED]"},"a":1},"redacted":["inputs.__proto__.token"]}\n');
  });

  test("secrets under keys of Maps and class instances are redacted like any other", () => {
    class Settings {
      apiKey = "k-123";
      model = "m";
    }
    assert.deepEqual(render({ s: new Settings(), m: new Map([["password", "pw"]]) }, true), {
      s: { apiKey: "[REDACTED]", model: "m" },
      m: { password: "[REDACTED]" },
    });
  });

  test("the fast and the careful way redact the same (a long line is written the careful way)", () => {
    const value = { h: [["Authorization", "Bearer abcdefgh12345678"]], note: "x".repeat(30_000), k: { token: 1 } };
    const renderer = new Renderer(limits, new Redactor());
    const long = JSON.parse(renderer.render({ event: "x", inputs: value }));
    const short = JSON.parse(renderer.render({ event: "x", inputs: { ...value, note: "x" } }));
    assert.deepEqual(long.redacted, short.redacted);
    assert.deepEqual(long.redacted, ["inputs.h[0][1]", "inputs.k.token"]);
  });
});

describe("ids", () => {
  test("are UUIDv7 text: version 7, RFC variant, the current millisecond in the first 48 bits", () => {
    const before = Date.now();
    const id = uuid7();
    const after = Date.now();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.replace(/-/g, "").slice(0, 12), 16);
    assert.ok(before - 1 <= ms && ms <= after + 1, `${ms} in [${before}, ${after}]`);
  });

  test("sort in creation order and never repeat, even many within one millisecond", () => {
    const ids = Array.from({ length: 20_000 }, () => uuid7());
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  test("hold the sub-millisecond fraction in the 12 bits after the version", () => {
    const fractions = new Set(Array.from({ length: 2000 }, () => uuid7().slice(15, 18)));
    assert.ok(fractions.size > 1, "not a constant");
  });
});

describe("clock", () => {
  test("timestamps never go backwards and follow the wall clock", () => {
    let last = 0;
    for (let i = 0; i < 10_000; i++) {
      const now = epochMicros();
      assert.ok(now >= last);
      last = now;
    }
    assert.ok(Math.abs(epochMicros() / 1000 - Date.now()) < 50);
  });

  test("ts text is RFC 3339 UTC with microseconds", () => {
    assert.equal(formatTimestamp(1_795_503_641_000_007), "2026-11-24T07:00:41.000007Z");
    assert.match(formatTimestamp(epochMicros()), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});

describe("configure", () => {
  test("changes only what it is given; resetDefaults reads the environment again", () => {
    resetDefaults({});
    configure({ maxBytes: 1000, redact: false });
    assert.equal(getConfig().maxBytes, 1000);
    assert.equal(getConfig().redact, false);
    assert.equal(getConfig().enabled, true);
    resetDefaults({ JSONTRACE_MAX_BYTES: "2k" });
    assert.equal(getConfig().maxBytes, 2048);
    assert.equal(getConfig().redact, true);
    resetDefaults({});
  });

  test("refuses settings that can never work with a one-line TypeError, changing nothing", () => {
    resetDefaults({});
    const before = getConfig();
    assert.throws(() => configure({ maxBytes: -1 }), /maxBytes.*integer >= 1/);
    assert.throws(() => configure({ dir: "" }), /dir/);
    assert.throws(() => configure({ enabled: "yes" as unknown as boolean }), /true or false/);
    assert.throws(() => configure({ redactKeys: "session" as unknown as string[] }), /array of strings/);
    assert.throws(() => configure({ redactPatterns: ["(unclosed"] }), /not a valid RegExp/);
    assert.throws(() => configure({ redactPatterns: [/x/i] }), /flags "i"/);
    assert.throws(() => configure({ redactPatterns: ["(?i:x)"] }), /not a valid RegExp/);
    assert.equal(getConfig(), before);
  });

  test("custom keys and patterns (strings or RegExps) apply to what is written", () => {
    resetDefaults({});
    configure({ redactKeys: ["ssn"], redactPatterns: [/emp-\d{4}/, "case-[0-9]+"] });
    forgetReports();
    try {
      const renderer = new Renderer(limits, new Redactor(getConfig().redactKeys, getConfig().redactPatterns));
      const out = JSON.parse(renderer.render({ event: "x", inputs: { user_ssn: "1", note: "emp-1234 and case-9" } }));
      assert.deepEqual(out.inputs, { user_ssn: "[REDACTED]", note: "[REDACTED] and [REDACTED]" });
    } finally {
      resetDefaults({});
    }
  });

  test("a bad environment value is warned about once and the default used", () => {
    forgetReports();
    const warn = mock.method(process, "emitWarning", () => undefined);
    try {
      resetDefaults({ JSONTRACE_ENABLED: "perhaps" });
      resetDefaults({ JSONTRACE_ENABLED: "perhaps" });
      assert.equal(getConfig().enabled, true);
      assert.equal(warn.mock.callCount(), 1);
      assert.match(String(warn.mock.calls[0]!.arguments[0]), /JSONTRACE_ENABLED="perhaps" is not a boolean/);
    } finally {
      warn.mock.restore();
      resetDefaults({});
      forgetReports();
    }
  });
});

describe("the writer's own event shapes", () => {
  const payloads: unknown[] = [
    {},
    { args: [1, 2] },
    { question: "why?", api_key: "sk-live-0123456789abcdefghij", nested: { token: "t", list: [["Authorization", "x"]] } },
    "x".repeat(120_000),
    { deep: JSON.parse("[".repeat(300) + "]".repeat(300)) },
    { text: "lone \ud800 surrogate" },
    [10n ** 30n],
    null,
  ];
  const id = "01a20c5b-2a3a-74f3-b984-ce135be17a49";
  const ts = "2026-11-24T07:00:30.906323Z";

  test("start, end and chunk lines are byte for byte what the general renderer writes", () => {
    for (const redactor of [new Redactor(), null]) {
      for (const limits of [{ maxChars: 100_000, maxItems: 10_000 }, { maxChars: 10, maxItems: 3 }]) {
        const renderer = new Renderer(limits, redactor);
        for (const payload of payloads) {
          const start = {
            event: "run.start", run_id: id, trace_id: id, v: 1, ts, parent_run_id: payload === null ? null : id,
            name: "a_long_name_to_cut", run_type: "llm", inputs: payload, tags: ["t", "Bearer abcdefgh12345678"],
            metadata: { m: payload }, pid: 42, host: "my-host",
          };
          assert.equal(renderer.start(start), renderer.render(start));
          const end: Record<string, unknown> = {
            event: "run.end", run_id: id, trace_id: id, v: 1, ts, status: "ok", outputs: payload,
            error: { type: "E", message: "sk-live-0123456789abcdefghij", traceback: "t" }, chunk_count: 3, duration_ms: 4,
          };
          assert.equal(renderer.end(end), renderer.render(end));
          for (const extra of [{ first_chunk_ms: null }, { first_chunk_ms: 0.5, tags: ["x"], metadata: { password: 1 }, trace_warnings: ["w"] }]) {
            const full = { ...end, ...extra };
            assert.equal(renderer.end(full), renderer.render(full));
          }
          const chunk = { event: "run.chunk", run_id: id, trace_id: id, v: 1, ts, seq: 7, chunk: payload };
          assert.equal(renderer.chunk(id, id, ts, 7, payload), renderer.render(chunk));
          for (const text of ["token", "sk-live-0123456789abcdefghij", "x".repeat(50), "\udc00"]) {
            assert.equal(renderer.chunk(id, id, ts, 7, text), renderer.render({ ...chunk, chunk: text }));
          }
        }
      }
    }
  });
});
