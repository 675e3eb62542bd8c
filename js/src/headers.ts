/**
 * Trace context across processes: LangSmith's headers, and W3C `traceparent`.
 *
 * * `langsmith-trace`: the run's dotted order,
 *   `<start as 20260124T070041123456Z><run id>` for each run from the root
 *   down, joined by "." (the last id is the parent, the first the trace);
 * * `baggage`: `langsmith-metadata=<URI-encoded JSON>`,
 *   `langsmith-tags=<URI-encoded comma list>` (LangSmith's formats);
 * * `traceparent`: `00-<trace id's 32 hex digits>-<last 16 hex digits of the
 *   run id>-01`, so OpenTelemetry-instrumented services see the same trace.
 *
 * Only types come from run.ts, so the two modules do not import each other at run time.
 */

import type { KVMap, RunTree } from "./run.js";
import { reportOnce } from "./warn.js";

/** A `Headers` object, or a plain object of header values (Node's `req.headers`). */
export type HeadersLike =
  | { get(name: string): string | null | undefined }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export const LANGSMITH_TRACE = "langsmith-trace";
export const BAGGAGE = "baggage";
export const TRACEPARENT = "traceparent";

/** The headers that make a call in another process a child of `run`. */
export function headersOf(run: RunTree): Record<string, string> {
  const items: string[] = [];
  const metadata = run.metadata;
  if (metadata && Object.keys(metadata).length > 0) {
    items.push(`langsmith-metadata=${encodeURIComponent(JSON.stringify(metadata))}`);
  }
  if (run.tags.length > 0) items.push(`langsmith-tags=${encodeURIComponent(run.tags.join(","))}`);
  const hex = (id: string): string => id.replace(/-/g, "");
  return {
    [LANGSMITH_TRACE]: run.dotted_order,
    [BAGGAGE]: items.join(","),
    [TRACEPARENT]: `00-${hex(run.trace_id)}-${hex(run.id).slice(16)}-01`,
  };
}

function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    const value = (headers as { get(name: string): string | null | undefined }).get(name);
    return value ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let value = record[name];
  if (value === undefined) {
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  if (Array.isArray(value)) return value.join(",");
  return typeof value === "string" ? value : undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOTTED_PART = /^(\d{8}T\d{6}\d{1,9}Z)([0-9a-fA-F-]{36})$/;

/** The parent named by `headers`: ids, its dotted order, baggage. Undefined (warned once) when bad. */
export function parseHeaders(
  headers: HeadersLike,
): { id: string; trace_id: string; dotted_order: string; metadata: KVMap; tags: string[] } | undefined {
  const trace = header(headers, LANGSMITH_TRACE)?.trim();
  if (!trace) return undefined;
  const ids: string[] = [];
  for (const part of trace.split(".")) {
    const match = DOTTED_PART.exec(part);
    if (match === null || !UUID.test(match[2]!)) {
      reportOnce("headers", `ignoring a ${LANGSMITH_TRACE} header that is not a dotted order: ${JSON.stringify(trace.slice(0, 200))}`);
      return undefined;
    }
    ids.push(match[2]!.toLowerCase());
  }
  let metadata: KVMap = {};
  let tags: string[] = [];
  const baggage = header(headers, BAGGAGE);
  if (baggage) {
    try {
      for (const item of baggage.split(",")) {
        const at = item.indexOf("=");
        if (at < 0) continue;
        const key = item.slice(0, at).trim();
        const value = decodeURIComponent(item.slice(at + 1).trim());
        if (key === "langsmith-metadata") {
          const parsed: unknown = JSON.parse(value);
          if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) metadata = parsed as KVMap;
        } else if (key === "langsmith-tags") {
          tags = value.split(",").filter((tag) => tag);
        }
      }
    } catch (error) {
      reportOnce("baggage", `ignoring a baggage header that cannot be read: ${(error as Error).message}`);
    }
  }
  return { id: ids[ids.length - 1]!, trace_id: ids[0]!, dotted_order: trace, metadata, tags };
}
