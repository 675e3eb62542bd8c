/**
 * The headers that carry a trace into another process: `langsmith-trace`, `baggage`, `traceparent`.
 *
 * Byte for byte as the Python side writes and reads them (its `docs/format.md`,
 * "Traces that cross processes"), which is LangSmith's format:
 *
 * * `langsmith-trace`: LangSmith's dotted order, one `<UTC start as
 *   YYYYmmddTHHMMSSffffffZ><run id>` segment per run from the trace's root down
 *   to the run, joined by ".";
 * * `baggage`: W3C baggage members `langsmith-metadata` (compact JSON, redacted
 *   as the files are), `langsmith-tags` (comma-joined) and `langsmith-project`,
 *   percent-encoded as Python's `urllib.parse.quote` does (LangSmith's Python
 *   client); only when it has a member;
 * * `traceparent`: W3C trace context, `00-<trace id, 32 hex>-<the run id's last
 *   16 hex digits>-01`.
 *
 * Nothing here throws for bad input: a malformed header is reported once and
 * ignored, and the run starts without that parent. Only types come from
 * run.ts, so the two modules do not import each other at run time.
 */

import { formatTimestamp } from "./clock.js";
import { getConfig } from "./config.js";
import { PROJECT, REFERENCE_EXAMPLE_ID } from "./inherit.js";
import { Redactor } from "./redact.js";
import { CAREFUL, Encoder, toPlain } from "./serialize.js";
import type { KVMap, RunTree } from "./run.js";
import { reportOnce } from "./warn.js";

/** A `Headers` object, Node's `req.headers`, a plain object, or a list of `[name, value]` pairs. */
export type HeadersLike =
  | { get(name: string): string | null | undefined }
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | ReadonlyArray<readonly [string, string]>;

export const LANGSMITH_TRACE = "langsmith-trace";
export const BAGGAGE = "baggage";
export const TRACEPARENT = "traceparent";
const NAMES = [LANGSMITH_TRACE, BAGGAGE, TRACEPARENT] as const;


// -- writing ------------------------------------------------------------------------

/** One dotted-order segment: the start (epoch microseconds) as YYYYmmddTHHMMSSffffffZ, then the id. */
export function segment(startUs: number, runId: string): string {
  return formatTimestamp(startUs).replace(/[-:.]/g, "") + runId;
}

/** W3C `traceparent`: the trace UUID's 32 hex digits, the run UUID's last 16 (its random part). */
export function traceparent(traceId: string, runId: string): string {
  return `00-${traceId.replace(/-/g, "")}-${runId.replace(/-/g, "").slice(-16)}-01`;
}

/** Python's `urllib.parse.quote` (safe "/"): UTF-8, %XX in upper case but for A-Za-z0-9_.-~/ */
export function quote(text: string): string {
  return encodeURIComponent(text.isWellFormed() ? text : text.toWellFormed())
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, "/");
}

let headerRedactor: { key: string; redactor: Redactor } | null = null;

function redactorFor(keys: readonly string[], patterns: readonly string[]): Redactor {
  const key = JSON.stringify([keys, patterns]);
  if (headerRedactor === null || headerRedactor.key !== key) headerRedactor = { key, redactor: new Redactor(keys, patterns) };
  return headerRedactor.redactor;
}

/** Metadata as compact JSON, as the files hold it (redacted when redaction is on). */
function metadataJson(metadata: KVMap): string {
  const config = getConfig();
  // Headers leave the process (proxies log them): scrub secrets as the files are.
  const redactor = config.redact ? redactorFor(config.redactKeys, config.redactPatterns) : null;
  try {
    return new Encoder(false).field("metadata", metadata, redactor);
  } catch (error) {
    if (error !== CAREFUL) throw error;
    let value: unknown = toPlain(metadata, true);
    if (redactor !== null) value = redactor.scrub(value, "metadata", []);
    return new Encoder(true, { maxChars: config.maxChars, maxItems: config.maxItems }).field("metadata", value, null);
  }
}

/** The `baggage` value LangSmith writes: metadata as JSON, tags comma-joined, the project. */
export function formatBaggage(metadata: KVMap, tags: readonly string[]): string {
  const members: string[] = [];
  const carried: KVMap = {};
  let count = 0;
  for (const [key, value] of Object.entries(metadata)) {
    if (key === PROJECT || key === REFERENCE_EXAMPLE_ID || value === undefined) continue;
    carried[key] = value;
    count++;
  }
  if (count > 0) members.push(`langsmith-metadata=${quote(metadataJson(carried))}`);
  if (tags.length > 0) members.push(`langsmith-tags=${quote(tags.join(","))}`);
  const project = metadata[PROJECT];
  if (typeof project === "string" && project) members.push(`langsmith-project=${quote(project)}`);
  return members.join(",");
}

/** `langsmith-trace`, `baggage` (when it has a member) and `traceparent` of a run. */
export function headersOf(run: RunTree): Record<string, string> {
  const headers: Record<string, string> = { [LANGSMITH_TRACE]: run.dotted_order };
  let baggage = "";
  try {
    baggage = formatBaggage(run.metadata, run.tags);
  } catch (error) {
    // The ids travel even if the metadata cannot.
    reportOnce("headers:write", `could not write the baggage header: ${(error as Error)?.message ?? error}`);
  }
  if (baggage) headers[BAGGAGE] = baggage;
  headers[TRACEPARENT] = traceparent(run.trace_id, run.id);
  return headers;
}

// -- reading ------------------------------------------------------------------------

/** A parent in another process, as the headers name it. */
export interface RemoteParent {
  id: string;
  trace_id: string;
  parent_run_id: string | undefined;
  dotted_order: string;
  metadata: KVMap;
  tags: string[];
}

function text(value: unknown): string {
  return typeof value === "string" ? value : Array.isArray(value) ? value.map(String).join(",") : String(value);
}

/** Our three headers, names in any case; repeated `baggage` joined with ","; of the others the first counts. */
export function findHeaders(headers: unknown): Partial<Record<(typeof NAMES)[number], string>> {
  const found: Partial<Record<(typeof NAMES)[number], string>> = {};
  const add = (name: unknown, value: unknown): void => {
    const key = String(name).trim().toLowerCase() as (typeof NAMES)[number];
    if (!NAMES.includes(key) || value === undefined || value === null) return;
    if (key === BAGGAGE && found[key] !== undefined) found[key] = `${found[key]},${text(value)}`;
    else if (found[key] === undefined) {
      // A repeated langsmith-trace or traceparent in Node's req.headers is an array: the first counts.
      found[key] = key !== BAGGAGE && Array.isArray(value) ? text(value[0]) : text(value);
    }
  };
  if (headers === null || typeof headers !== "object") return found;
  if (Array.isArray(headers)) {
    for (const pair of headers as unknown[]) if (Array.isArray(pair) && pair.length === 2) add(pair[0], pair[1]);
  } else if (typeof (headers as { get?: unknown }).get === "function" && !(headers instanceof Map)) {
    const get = (headers as { get(name: string): string | null | undefined }).get.bind(headers);
    for (const name of NAMES) add(name, get(name) ?? undefined);
  } else {
    const entries = headers instanceof Map ? [...headers.entries()] : Object.entries(headers);
    for (const [name, value] of entries) add(name, value);
  }
  return found;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// strftime("%Y%m%dT%H%M%S%fZ"), as LangSmith parses it (%f takes 1 to 6 digits).
const STAMP = /^\d{8}T\d{6}\d{1,6}Z$/;
// W3C trace context level 1, as the OpenTelemetry SDK reads it.
const TRACEPARENT_FORMAT = /^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?[ \t]*$/;

function malformed(header: string, value: string, expected: string): void {
  const excerpt = value.length <= 120 ? value : `${value.slice(0, 120)}…`;
  reportOnce(
    `headers:${header}`,
    `ignoring a malformed ${header} header ${JSON.stringify(excerpt)} (${expected}); the run starts without that parent`,
  );
}

/** A LangSmith dotted order as the run it ends with; undefined (reported once) if malformed. */
export function parseDottedOrder(value: string): RemoteParent | undefined {
  const segments: Array<[string, string]> = [];
  for (const part of value.trim().split(".")) {
    const stamp = part.slice(0, -36);
    const id = part.slice(-36).toLowerCase();
    if (part.length <= 36 || !STAMP.test(stamp) || !UUID.test(id)) {
      malformed(LANGSMITH_TRACE, value, "expected <YYYYmmddTHHMMSSffffffZ><uuid> segments joined by '.'");
      return undefined;
    }
    segments.push([stamp, id]);
  }
  return {
    id: segments[segments.length - 1]![1],
    trace_id: segments[0]![1],
    parent_run_id: segments.length > 1 ? segments[segments.length - 2]![1] : undefined,
    dotted_order: segments.map(([stamp, id]) => stamp + id).join("."),
    metadata: {},
    tags: [],
  };
}

/**
 * A W3C `traceparent` as the run to continue; undefined (reported once) if malformed.
 * Its parent span is not a run of ours (only 64 bits): the continued run keeps the
 * trace id and names the span `00000000-0000-0000-<16 hex digits>`.
 */
export function parseTraceparent(value: string, nowUs: number): RemoteParent | undefined {
  const match = TRACEPARENT_FORMAT.exec(value);
  if (match === null) {
    malformed(TRACEPARENT, value, "expected 00-<32 hex>-<16 hex>-<2 hex>");
    return undefined;
  }
  const [, version, traceHex, spanHex, , rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest) || /^0+$/.test(traceHex) || /^0+$/.test(spanHex)) {
    malformed(TRACEPARENT, value, "an invalid version or an all-zero id");
    return undefined;
  }
  const traceId = `${traceHex.slice(0, 8)}-${traceHex.slice(8, 12)}-${traceHex.slice(12, 16)}-${traceHex.slice(16, 20)}-${traceHex.slice(20)}`;
  const spanRunId = `00000000-0000-0000-${spanHex.slice(0, 4)}-${spanHex.slice(4)}`;
  return {
    id: spanRunId,
    trace_id: traceId,
    parent_run_id: undefined,
    dotted_order: `${segment(nowUs, traceId)}.${segment(nowUs, spanRunId)}`,
    metadata: {},
    tags: [],
  };
}

/** Percent-decoding as Python's `unquote`: invalid UTF-8 becomes U+FFFD, never an exception. */
function unquote(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    const bytes: number[] = [];
    let out = "";
    const flush = (): void => {
      if (bytes.length > 0) {
        out += Buffer.from(bytes).toString("utf8");
        bytes.length = 0;
      }
    };
    for (let i = 0; i < value.length; i++) {
      if (value[i] === "%" && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
        bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        flush();
        out += value[i];
      }
    }
    flush();
    return out;
  }
}

/** Metadata (with `project`) and tags from LangSmith's baggage members; other members are ignored. */
export function parseBaggage(value: string): { metadata: KVMap; tags: string[] } {
  let metadata: KVMap = {};
  let tags: string[] = [];
  let project: string | undefined;
  for (const member of value.split(",")) {
    const at = member.indexOf("=");
    if (at < 0) continue;
    const key = member.slice(0, at).trim();
    const raw = unquote(member.slice(at + 1).split(";", 1)[0]!.trim());
    if (key === "langsmith-metadata") {
      let decoded: unknown;
      try {
        decoded = JSON.parse(raw);
      } catch {
        decoded = undefined;
      }
      if (decoded !== null && typeof decoded === "object" && !Array.isArray(decoded)) metadata = decoded as KVMap;
      else malformed(BAGGAGE, value, "langsmith-metadata is not a JSON object");
    } else if (key === "langsmith-tags") {
      tags = raw.split(",").filter((tag) => tag);
    } else if (key === "langsmith-project" && raw) {
      project = raw;
    }
  }
  if (project !== undefined) metadata[PROJECT] = project;
  return { metadata, tags };
}

/** The run `headers` continue, or undefined when they name none (or only malformed ones). */
export function parseHeaders(headers: unknown, nowUs: number): RemoteParent | undefined {
  const found = findHeaders(headers);
  let parent: RemoteParent | undefined;
  if (found[LANGSMITH_TRACE] !== undefined) parent = parseDottedOrder(found[LANGSMITH_TRACE]);
  if (parent === undefined && found[TRACEPARENT] !== undefined) parent = parseTraceparent(found[TRACEPARENT], nowUs);
  if (parent !== undefined && found[BAGGAGE] !== undefined) {
    const { metadata, tags } = parseBaggage(found[BAGGAGE]);
    parent.metadata = metadata;
    parent.tags = tags;
  }
  return parent;
}
