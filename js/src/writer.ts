/**
 * Per-process segment files: one `fs.writeSync` per event, rotation by size, retention.
 *
 * The same files as the Python writer (`jsontrace/_writer.py`):
 *
 * * `trace-<UTC start>-<host>-<pid>-<segment>.jsonl`, one writer per process,
 *   so lines of different processes never interleave and no locking is needed.
 * * Each event is a single write on an `O_APPEND` descriptor, made before the
 *   traced code goes on: the kernel has every reported line, so a SIGKILL
 *   loses nothing and never leaves half a line.
 * * A new segment is opened when a line would push the current one past
 *   `maxBytes` and the segment is not empty; files are never renamed, so
 *   `tail -f` and readers that remember offsets keep working. Retention
 *   deletes only this writer's own closed segments.
 * * Files are created with `O_CREAT | O_EXCL | O_NOFOLLOW`: a planted symlink
 *   or an existing file is never written through; that name is skipped and the
 *   next segment number taken (worker threads of one process have their own
 *   writers and meet each other's names this way too).
 * * Failures (directory gone or read-only, disk full) drop the event, warn
 *   once per outage, and are retried after a short delay; a line cut short by
 *   a full disk is truncated away, so the file never holds a partial line.
 */

import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileStamp, monotonicMs } from "./clock.js";
import { forgetReport, reportOnce } from "./warn.js";

export const FILE_PREFIX = "trace-";
export const FILE_SUFFIX = ".jsonl";

/** The host as it appears in file names: runs of anything but letters, digits and "." become "_". */
export function fileHost(host: string): string {
  return host.replace(/[^A-Za-z0-9.]+/g, "_") || "host";
}

/** The file name of one segment: sortable by start time, unique per process. */
export function segmentName(started: string, host: string, pid: number, segment: number): string {
  return `${FILE_PREFIX}${started}-${host}-${pid}-${String(segment).padStart(5, "0")}${FILE_SUFFIX}`;
}

// Checking that the open file still has a name costs an fstat: once a second is plenty.
const CHECK_EVERY_MS = 1000;
// After a failure, events are dropped without trying for this long: a full disk must
// not cost a failing system call per event.
const RETRY_EVERY_MS = 500;
// Names taken by someone else (or planted) are skipped; past this many in a row, give up.
const MAX_NAME_TRIES = 1000;
const FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW;
const WRITE_FAILED = "write"; // the reportOnce key of an outage

export interface WriterLimits {
  maxBytes: number;
  maxSegments: number | null;
}

/** The file system calls the writer makes (tests replace some to simulate a full disk). */
export interface WriterIO {
  openSync(path: string, flags: number, mode: number): number;
  writeSync(fd: number, data: string | Uint8Array, offset?: number): number;
  fstatSync(fd: number): { nlink: number };
  ftruncateSync(fd: number, length: number): void;
  closeSync(fd: number): void;
  mkdirSync(path: string, options: { recursive: true; mode: number }): unknown;
  unlinkSync(path: string): void;
}

const REAL_IO: WriterIO = {
  openSync: (path, flags, mode) => fs.openSync(path, flags, mode),
  writeSync: (fd, data, offset) =>
    typeof data === "string" ? fs.writeSync(fd, data) : fs.writeSync(fd, data, offset ?? 0),
  fstatSync: (fd) => fs.fstatSync(fd),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  closeSync: (fd) => fs.closeSync(fd),
  mkdirSync: (path, options) => fs.mkdirSync(path, options),
  unlinkSync: (path) => fs.unlinkSync(path),
};

export class SegmentWriter {
  /** Events dropped because writing failed (for diagnostics and tests). */
  dropped = 0;
  private fd = -1;
  private size = 0;
  private segment = -1;
  private readonly paths: string[] = [];
  private readonly started = fileStamp(Date.now());
  private readonly host = fileHost(hostname());
  private nextCheck = 0;
  private retryAfter = 0;
  private failed = false;

  constructor(
    readonly directory: string,
    private limits: WriterLimits,
    private readonly io: WriterIO = REAL_IO,
  ) {}

  /** The segment file being written, if one is open. */
  get path(): string | null {
    return this.fd >= 0 ? (this.paths[this.paths.length - 1] ?? null) : null;
  }

  /** Apply new rotation and retention limits (retention at once). */
  setLimits(limits: WriterLimits): void {
    this.limits = limits;
    this.applyRetention();
  }

  /** Append one complete line (ending in "\n"); on failure drop it, warn once, retry later. */
  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    try {
      const now = monotonicMs();
      if (this.fd < 0) {
        if (now < this.retryAfter) {
          this.dropped++;
          return;
        }
        this.openNext();
      } else if (this.size + bytes > this.limits.maxBytes && this.size > 0) {
        this.openNext();
      } else if (now >= this.nextCheck) {
        this.nextCheck = now + CHECK_EVERY_MS;
        if (this.io.fstatSync(this.fd).nlink === 0) this.openNext(); // file or directory deleted under us
      }
      const written = this.io.writeSync(this.fd, line);
      if (written !== bytes) this.finishShortWrite(line, written);
      this.size += bytes;
      if (this.failed) {
        this.failed = false;
        forgetReport(WRITE_FAILED); // the next outage is reported again
      }
    } catch (error) {
      this.fail(error as NodeJS.ErrnoException);
    }
  }

  private finishShortWrite(line: string, written: number): void {
    // The disk filled up mid-line: complete the line, or cut off the part written, so
    // that no partial line remains.
    const rest = Buffer.from(line);
    try {
      while (written < rest.length) {
        const more = this.io.writeSync(this.fd, rest, written);
        if (more <= 0) throw Object.assign(new Error("short write"), { code: "ENOSPC" });
        written += more;
      }
    } catch (error) {
      this.undoPartial();
      throw error;
    }
  }

  private undoPartial(): void {
    // Only this writer writes this file, so everything past `size` is ours.
    try {
      this.io.ftruncateSync(this.fd, this.size);
    } catch {
      // The next outage report says enough.
    }
  }

  private fail(error: NodeJS.ErrnoException): void {
    this.dropped++;
    if (this.fd >= 0) this.undoPartial();
    this.closeFile();
    this.failed = true;
    this.retryAfter = monotonicMs() + RETRY_EVERY_MS;
    const reason = error.code ? `${error.code}: ${error.message}` : String(error.message ?? error);
    reportOnce(
      WRITE_FAILED,
      `cannot write traces to ${this.directory} (${reason}); ` +
        "your code keeps running, events are dropped until writing works again",
    );
  }

  private openNext(): void {
    this.closeFile();
    this.io.mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    for (let tries = 0; ; tries++) {
      // The number advances past names that exist: never written through, never reused.
      const segment = this.segment + 1;
      const path = join(this.directory, segmentName(this.started, this.host, process.pid, segment));
      let fd: number;
      try {
        fd = this.io.openSync(path, FLAGS, 0o600);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code === "EEXIST" || code === "ELOOP") && tries < MAX_NAME_TRIES) {
          this.segment = segment;
          continue;
        }
        throw error;
      }
      this.fd = fd;
      this.size = 0;
      this.segment = segment;
      this.nextCheck = monotonicMs() + CHECK_EVERY_MS;
      this.paths.push(path);
      this.applyRetention();
      return;
    }
  }

  private applyRetention(): void {
    const keep = this.limits.maxSegments;
    if (keep === null) return;
    while (this.paths.length > keep) {
      const oldest = this.paths.shift()!; // never the open one, the last: keep >= 1
      try {
        this.io.unlinkSync(oldest);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
          reportOnce("retention", `cannot delete old segment ${oldest}: ${(error as Error).message}`);
        }
      }
    }
  }

  private closeFile(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      try {
        this.io.closeSync(fd);
      } catch {
        // Already gone.
      }
    }
  }

  /** Close the current segment; the next write opens a new one. */
  close(): void {
    this.closeFile();
  }
}
