/**
 * Problems inside jsontrace are reported once, as a process warning, and never thrown.
 *
 * Tracing must not harm the traced app: a full disk, a missing directory or a
 * throwing aggregator are told once (per kind of problem) with
 * `process.emitWarning` under the type `JsonTraceWarning`, so an app can
 * filter them (`process.on("warning", w => w.name === "JsonTraceWarning")`),
 * and the app goes on.
 */

export const WARNING_TYPE = "JsonTraceWarning";

const reported = new Set<string>();

/** Warn about `key` the first time only; never throws. */
export function reportOnce(key: string, message: string): void {
  if (reported.has(key)) return;
  reported.add(key);
  try {
    process.emitWarning(`jsontrace: ${message}`, { type: WARNING_TYPE, code: "JSONTRACE" });
  } catch {
    // --throw-deprecation and friends must not turn tracing trouble into app trouble.
  }
}

/** Allow `key` to be reported again (the problem went away). */
export function forgetReport(key: string): void {
  reported.delete(key);
}

/** Forget every report (for tests). */
export function forgetReports(): void {
  reported.clear();
}

/** `String(value)`, or a description when that throws (a hostile toString). */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `<${typeName(value)} (could not be made text)>`;
  }
}

/** The name of a value's class, as a reader would call it: "Error", "Map", "string". */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object" && typeof value !== "function") return typeof value;
  try {
    const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name ? name : "Object";
  } catch {
    return "Object";
  }
}
