/**
 * The segment writer: file names, permissions, rotation, retention, planted files,
 * and failures that drop events without harming the app.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { configure, traceable } from "../src/index.js";
import { currentWriter } from "../src/pipeline.js";
import { forgetReports } from "../src/warn.js";
import { fileHost, SegmentWriter, type WriterIO } from "../src/writer.js";
import { freshTraces, readEvents, segmentFiles, tempDir } from "./helpers.js";

const NAME = /^trace-(\d{8}T\d{6}Z)-(.+)-(\d+)-(\d{5,})\.jsonl$/;

let traces: ReturnType<typeof freshTraces>;
beforeEach(() => {
  traces = freshTraces();
});
afterEach(() => traces.done());

function line(n: number, size = 100): string {
  const head = `{"event":"run.chunk","seq":${n},"chunk":"`;
  return `${head}${"x".repeat(size - head.length - 3)}"}\n`;
}

function collectWarnings(): { messages: () => string[]; stop: () => void } {
  const seen: string[] = [];
  const original = process.emitWarning;
  process.emitWarning = ((message: string | Error, options?: unknown) => {
    const type = typeof options === "object" && options !== null ? (options as { type?: string }).type : options;
    if (type === "JsonTraceWarning") seen.push(String(message));
  }) as typeof process.emitWarning;
  return { messages: () => seen, stop: () => (process.emitWarning = original) };
}

describe("files", () => {
  test("one file per process, named trace-<UTC start>-<host>-<pid>-<segment>.jsonl, mode 0600 in a 0700 directory", () => {
    traceable(() => 1, { name: "f" })();
    const files = traces.files();
    assert.equal(files.length, 1);
    const match = NAME.exec(files[0]!);
    assert.ok(match, files[0]);
    assert.equal(match[2], fileHost(hostname()));
    assert.equal(Number(match[3]), process.pid);
    assert.equal(match[4], "00000");
    const started = match[1]!;
    const now = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
    assert.ok(started <= `${now}Z`, `${started} is not in the future`);
    assert.equal(fs.statSync(traces.dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(join(traces.dir, files[0]!)).mode & 0o777, 0o600);
    assert.equal(currentWriter()?.path, join(traces.dir, files[0]!));
  });

  test("the host in file names keeps letters, digits and dots; anything else becomes _", () => {
    assert.equal(fileHost("web-01.example.com"), "web_01.example.com");
    assert.equal(fileHost("my host!"), "my_host_");
    assert.equal(fileHost(""), "host");
  });

  test("each event is one whole line, written before the traced call returns", () => {
    const f = traceable((x: number) => x, { name: "f" });
    f(1);
    const size = fs.statSync(join(traces.dir, traces.files()[0]!)).size;
    f(2);
    const text = fs.readFileSync(join(traces.dir, traces.files()[0]!), "utf8");
    assert.ok(text.length > size);
    assert.ok(text.endsWith("\n"));
    assert.equal(text.split("\n").filter(Boolean).length, 4);
  });
});

describe("rotation and retention", () => {
  test("a line that would push the segment past maxBytes opens the next segment; none is renamed", () => {
    const dir = join(traces.dir, "own");
    const writer = new SegmentWriter(dir, { maxBytes: 250, maxSegments: null });
    for (let i = 0; i < 5; i++) writer.write(line(i));
    writer.close();
    const files = segmentFiles(dir);
    assert.deepEqual(
      files.map((f) => NAME.exec(f)![4]),
      ["00000", "00001", "00002"],
    );
    const sizes = files.map((f) => fs.statSync(join(dir, f)).size);
    assert.deepEqual(sizes, [200, 200, 100], "two 100-byte lines fit in 250, a third would not");
    assert.deepEqual(readEvents(dir).map((e) => e.seq), [0, 1, 2, 3, 4]);
  });

  test("a line longer than maxBytes goes whole into an empty segment", () => {
    const dir = join(traces.dir, "own");
    const writer = new SegmentWriter(dir, { maxBytes: 50, maxSegments: null });
    writer.write(line(0, 120));
    writer.write(line(1, 120));
    writer.close();
    assert.deepEqual(segmentFiles(dir).map((f) => fs.statSync(join(dir, f)).size), [120, 120]);
  });

  test("JSONTRACE_MAX_BYTES-sized rotation applies to traced calls (configure maxBytes)", () => {
    configure({ maxBytes: 1024 });
    const f = traceable((x: number) => x, { name: "f" });
    for (let i = 0; i < 20; i++) f(i);
    const files = traces.files();
    assert.ok(files.length > 1, `${files.length} segments`);
    for (const file of files) assert.ok(fs.statSync(join(traces.dir, file)).size <= 1024);
    assert.equal(traces.events().length, 40);
  });

  test("retention deletes this writer's oldest closed segments beyond maxSegments, never others' files", () => {
    const dir = join(traces.dir, "own");
    fs.mkdirSync(dir, { recursive: true });
    const foreign = join(dir, "trace-20200101T000000Z-other-1-00000.jsonl");
    fs.writeFileSync(foreign, line(99));
    const writer = new SegmentWriter(dir, { maxBytes: 150, maxSegments: 2 });
    for (let i = 0; i < 5; i++) writer.write(line(i));
    writer.close();
    const own = segmentFiles(dir).filter((f) => f !== "trace-20200101T000000Z-other-1-00000.jsonl");
    assert.deepEqual(own.map((f) => NAME.exec(f)![4]), ["00003", "00004"]);
    assert.ok(fs.existsSync(foreign));
  });
});

describe("planted and existing files", () => {
  test("a symlink planted at the next segment's name is never written through; another name is taken", () => {
    const dir = join(traces.dir, "own");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = new SegmentWriter(dir, { maxBytes: 1 << 20, maxSegments: null });
    probe.write(line(0));
    const first = probe.path!;
    probe.close();
    fs.unlinkSync(first);
    const victim = join(traces.dir, "victim.txt");
    fs.writeFileSync(victim, "keep me\n");
    fs.symlinkSync(victim, first);
    const writer = new SegmentWriter(dir, { maxBytes: 1 << 20, maxSegments: null });
    writer.write(line(1));
    writer.close();
    assert.equal(fs.readFileSync(victim, "utf8"), "keep me\n");
    assert.equal(fs.lstatSync(first).isSymbolicLink(), true);
    assert.notEqual(writer.path, first);
    const written = segmentFiles(dir).filter((f) => !fs.lstatSync(join(dir, f)).isSymbolicLink());
    assert.equal(written.length, 1);
    assert.equal(NAME.exec(written[0]!)![4], "00001");
  });

  test("an existing file with the segment's name is left untouched; another name is taken", () => {
    const dir = join(traces.dir, "own");
    const probe = new SegmentWriter(dir, { maxBytes: 1 << 20, maxSegments: null });
    probe.write(line(0));
    const first = probe.path!;
    probe.close();
    fs.writeFileSync(first, "someone else's\n");
    const writer = new SegmentWriter(dir, { maxBytes: 1 << 20, maxSegments: null });
    writer.write(line(1));
    assert.notEqual(writer.path, first);
    writer.close();
    assert.equal(fs.readFileSync(first, "utf8"), "someone else's\n");
  });
});

describe("failures never harm the app", () => {
  test("a directory that cannot be made: the traced code goes on, one warning, events dropped", () => {
    const blocker = join(traces.dir, "..", "a-file");
    fs.writeFileSync(blocker, "not a directory");
    configure({ dir: join(blocker, "logs") });
    const warnings = collectWarnings();
    try {
      const f = traceable((x: number) => x * 2, { name: "f" });
      assert.equal(f(1), 2);
      assert.equal(f(2), 4);
      const messages = warnings.messages();
      assert.equal(messages.length, 1, messages.join("\n"));
      assert.match(messages[0]!, /cannot write traces to .*a-file\/logs \(ENOTDIR/);
      assert.match(messages[0]!, /your code keeps running/);
      assert.ok((currentWriter()?.dropped ?? 0) >= 4);
    } finally {
      warnings.stop();
    }
  });

  test("a full disk mid-line: the partial line is cut away, one warning, writing resumes after a pause", async () => {
    const dir = join(traces.dir, "own");
    let full = false;
    const io: WriterIO = {
      openSync: (p, flags, mode) => fs.openSync(p, flags, mode),
      writeSync: (fd, data, offset) => {
        if (full) {
          // Half the line reaches the file, then the disk is full.
          const text = typeof data === "string" ? data : Buffer.from(data).toString();
          const half = text.slice(0, Math.floor(text.length / 2));
          if (typeof data === "string") return fs.writeSync(fd, half);
          throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
        }
        return typeof data === "string" ? fs.writeSync(fd, data) : fs.writeSync(fd, data, offset ?? 0);
      },
      fstatSync: (fd) => fs.fstatSync(fd),
      ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
      closeSync: (fd) => fs.closeSync(fd),
      mkdirSync: (p, options) => fs.mkdirSync(p, options),
      unlinkSync: (p) => fs.unlinkSync(p),
    };
    const warnings = collectWarnings();
    try {
      const writer = new SegmentWriter(dir, { maxBytes: 1 << 20, maxSegments: null }, io);
      writer.write(line(0));
      full = true;
      writer.write(line(1));
      writer.write(line(2));
      full = false;
      writer.write(line(3)); // within the pause: dropped without a try
      assert.equal(writer.dropped, 3);
      await new Promise((resolve) => setTimeout(resolve, 600));
      writer.write(line(4));
      writer.close();
      const files = segmentFiles(dir);
      const text = files.map((f) => fs.readFileSync(join(dir, f), "utf8")).join("");
      assert.ok(text.endsWith("\n"));
      assert.deepEqual(readEvents(dir).map((e) => e.seq), [0, 4], "only whole lines");
      assert.equal(warnings.messages().length, 1);
      assert.match(warnings.messages()[0]!, /ENOSPC/);
    } finally {
      warnings.stop();
    }
  });

  test("after an outage ends, the next outage is reported again", async () => {
    const dir = join(traces.dir, "own");
    let failing = true;
    const io: WriterIO = {
      openSync: (p, flags, mode) => {
        if (failing) throw Object.assign(new Error("read-only file system"), { code: "EROFS" });
        return fs.openSync(p, flags, mode);
      },
      writeSync: (fd, data) => fs.writeSync(fd, data as string),
      fstatSync: (fd) => fs.fstatSync(fd),
      ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
      closeSync: (fd) => fs.closeSync(fd),
      mkdirSync: (p, options) => fs.mkdirSync(p, options),
      unlinkSync: (p) => fs.unlinkSync(p),
    };
    forgetReports();
    const warnings = collectWarnings();
    try {
      const writer = new SegmentWriter(dir, { maxBytes: 1 << 20, maxSegments: null }, io);
      writer.write(line(0));
      failing = false;
      await new Promise((resolve) => setTimeout(resolve, 600));
      writer.write(line(1));
      writer.close();
      failing = true;
      await new Promise((resolve) => setTimeout(resolve, 10));
      writer.write(line(2));
      assert.equal(warnings.messages().length, 2);
      assert.deepEqual(readEvents(dir).map((e) => e.seq), [1]);
    } finally {
      warnings.stop();
    }
  });

  test("a directory deleted under the writer is made again within a second", async () => {
    const f = traceable((x: number) => x, { name: "f" });
    f(1);
    fs.rmSync(traces.dir, { recursive: true });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    f(2);
    const events = traces.events();
    assert.deepEqual(events.filter((e) => e.event === "run.start").map((e) => e.inputs.input), [2]);
  });

  test("a value that throws when read is recorded as a description; the call goes on", () => {
    const hostile = {
      get boom(): never {
        throw new Error("no reading me");
      },
    };
    const f = traceable((_x: object) => "fine", { name: "f" });
    assert.equal(f(hostile), "fine");
    const start = readEvents(traces.dir).find((e) => e.event === "run.start")!;
    assert.equal(start.inputs, "<Object could not be read: Error>");
  });
});

test("a temporary directory helper removes what it made", () => {
  const tmp = tempDir();
  fs.writeFileSync(join(tmp.path, "x"), "y");
  tmp.remove();
  assert.equal(fs.existsSync(tmp.path), false);
});
