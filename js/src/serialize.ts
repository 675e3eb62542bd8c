/**
 * JavaScript values as JSON text, byte for byte as the Python writer (orjson) writes them.
 *
 * Values JSON cannot hold are converted, never refused (one level at a time,
 * by `convertOne`): a `Map` becomes an object, a `Set` an array, a `Date`
 * ISO 8601 text, bytes UTF-8 text or `{"$bytes_b64": ...}`, an `Error`
 * `{"type", "message"}`, a class instance its own enumerable properties (so
 * their keys are redacted like any other), a function `"<function name>"`,
 * other built-in objects `"<Promise>"`-like text. `undefined` is left out of
 * objects and is `null` elsewhere, as `JSON.stringify` has it.
 *
 * Two ways of writing, as on the Python side:
 *
 * * the *fast* way writes the value as it is, and gives up (throws
 *   `CAREFUL`) exactly where orjson gives up: a lone surrogate, a cycle, an
 *   integer beyond 64 bits, nesting past orjson's limit;
 * * the *careful* way (`to_jsonable` in Python) converts everything: long
 *   strings and containers are cut with a mark saying how much was dropped,
 *   lone surrogates become `\udXXX` text, cycles `"<cycle: Object>"`, deep
 *   nesting a mark, big integers text.
 *
 * The caller writes an event the careful way when the fast way gave up or the
 * line is long enough that something in it may exceed the limits; for values
 * within the limits both give the same bytes.
 *
 * Numbers: JavaScript has one number type, so a safe integer is written as an
 * integer (as Python writes an int) and anything else as orjson writes a
 * float (`0.5`, `1e-7`, `1e+16`). A `bigint` is written as an integer.
 */

import { Buffer } from "node:buffer";
import { REDACTED, type Redactor } from "./redact.js";
import { safeString, typeName } from "./warn.js";

export const TRUNCATION_MARK = "…[truncated ";
/** Below orjson's own limit, so the careful way always succeeds (as in Python). */
export const MAX_DEPTH = 128;
// A container at this depth inside a payload field is past orjson's recursion limit
// (255 levels, counting the event object and the field's own value).
const ORJSON_DEPTH = 253;

const INT64_MIN = -(2n ** 63n);
const INT64_END = 2n ** 63n;
const UINT64_END = 2n ** 64n;

/** Thrown by the fast way where orjson would refuse the value. Not an Error: no stack to build. */
export const CAREFUL: unique symbol = Symbol("jsontrace: write carefully");

export interface Limits {
  readonly maxChars: number;
  readonly maxItems: number;
}

const NO_LIMITS: Limits = { maxChars: Infinity, maxItems: Infinity };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** How a thrown value is recorded in an event: its class name and message. */
export function errorType(error: unknown): string {
  if (error instanceof Error || (typeof error === "object" && error !== null && "name" in error)) {
    let name: unknown;
    try {
      name = (error as { name?: unknown }).name;
    } catch {
      name = undefined;
    }
    // A subclass that does not set `name` still says "Error": its class says more.
    if (typeof name === "string" && name && name !== "Error") return name;
    return typeName(error);
  }
  return typeName(error);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    try {
      return safeString(error.message);
    } catch {
      return "<message unavailable>";
    }
  }
  return safeString(error);
}

function bytesValue(bytes: Uint8Array): unknown {
  try {
    return utf8.decode(bytes);
  } catch {
    return { $bytes_b64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") };
  }
}

/**
 * One level of conversion: a JSON scalar, `undefined`, an array (whose items are
 * converted in turn), or an object whose own enumerable properties are the entries.
 * May throw (a hostile `toJSON` or getter): the callers contain it.
 */
export function convertOne(value: unknown, allowToJSON = true): unknown {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return value;
    case "symbol":
      return value.toString();
    case "function":
      return `<function ${value.name || "(anonymous)"}>`;
  }
  if (value === null || Array.isArray(value)) return value;
  const object = value as object;
  const proto: unknown = Object.getPrototypeOf(object);
  if (proto === Object.prototype || proto === null) {
    // The common case first. A plain object may still carry a toJSON, as JSON.stringify knows.
    if (allowToJSON && typeof (object as { toJSON?: unknown }).toJSON === "function") {
      return convertOne((object as { toJSON: () => unknown }).toJSON(), false);
    }
    return object;
  }
  if (object instanceof Uint8Array) return bytesValue(object); // Buffer too
  if (object instanceof ArrayBuffer) return bytesValue(new Uint8Array(object));
  if (ArrayBuffer.isView(object)) {
    if (object instanceof DataView) {
      return bytesValue(new Uint8Array(object.buffer, object.byteOffset, object.byteLength));
    }
    return Array.from(object as unknown as ArrayLike<unknown>);
  }
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
  if (object instanceof Error) return { type: errorType(object), message: errorMessage(object) };
  if (object instanceof Map) {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [key, item] of object) out[typeof key === "string" ? key : safeString(key)] = item;
    return out;
  }
  if (object instanceof Set) return Array.from(object);
  if (object instanceof RegExp) return String(object);
  if (object instanceof String || object instanceof Number || object instanceof Boolean) {
    return object.valueOf();
  }
  if (allowToJSON) {
    const toJSON: unknown = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return convertOne(toJSON.call(object), false);
  }
  const tag = Object.prototype.toString.call(object);
  if (tag !== "[object Object]") return `<${tag.slice(8, -1)}>`; // "<Promise>", "<Generator>"
  return object; // a class instance: its own enumerable properties
}

function couldNotRead(value: unknown, error: unknown): string {
  return `<${typeName(value)} could not be read: ${errorType(error)}>`;
}

/** Whether a string is valid Unicode (no lone surrogate), so that it can be UTF-8. */
function wellFormed(text: string): boolean {
  return text.isWellFormed();
}

/** Lone surrogates as `\udXXX` text, as Python's "backslashreplace" writes them. */
export function fixSurrogates(text: string): string {
  if (text.isWellFormed()) return text;
  return text.replace(/\p{Cs}/gu, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

/** `text` cut to `limit` code points, with a mark giving the number dropped. */
export function truncateText(text: string, limit: number): string {
  if (text.length <= limit) return text; // UTF-16 units >= code points
  let points = 0;
  let cut = -1;
  for (let i = 0; i < text.length; i++) {
    if (points === limit) cut = i;
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    points++;
  }
  if (points <= limit) return text;
  return `${text.slice(0, cut)}${TRUNCATION_MARK}${points - limit} chars]`;
}

/** A number as orjson writes a float: `0.5`, `5.0`, `1e-7`, `1e+16`; null when not finite. */
export function floatText(x: number): string {
  if (!Number.isFinite(x)) return "null";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const magnitude = Math.abs(x);
  if (magnitude >= 1e-5 && magnitude < 1e16) {
    const text = String(x);
    return Number.isInteger(x) ? `${text}.0` : text;
  }
  return x.toExponential();
}

function numberText(x: number): string {
  return Number.isSafeInteger(x) ? String(x) : floatText(x);
}

/** Whether the careful way writes `raw` at this depth as the nesting mark (as Python does). */
function tooDeep(raw: unknown, depth: number): boolean {
  return depth >= MAX_DEPTH && raw !== null && (typeof raw === "object" || typeof raw === "function");
}

const NESTING_MARK = `${TRUNCATION_MARK}nesting deeper than ${MAX_DEPTH}]`;

function convertContained(raw: unknown): unknown {
  try {
    return convertOne(raw);
  } catch (error) {
    return couldNotRead(raw, error);
  }
}

/**
 * Writes payload values as JSON text, the fast or the careful way. With a
 * redactor (given to the fast way only), secrets are replaced while writing and
 * their paths collected in `paths`: the same result as `Redactor.scrub` over
 * `toPlain(value)`, in one walk.
 */
export class Encoder {
  /** Paths of redacted values, in the order they were met (a new list after `reset`). */
  paths: string[] = [];
  // The containers being written, outermost first (a cycle is one met again). A plain
  // array and a count: shallow values scan a few entries, cheaper than hashing.
  private readonly active: object[] = [];
  private activeCount = 0;
  // Where the walk is: the field's key, then object keys (strings) and list indexes
  // (numbers), `pathCount` of them. Made into text only when something is redacted.
  private readonly path: Array<string | number> = [];
  private pathCount = 0;
  private redactor: Redactor | null = null;

  constructor(
    private readonly careful: boolean,
    private readonly limits: Limits = NO_LIMITS,
  ) {}

  /** Forget the paths of the previous event (an encoder is reused, event after event). */
  reset(): void {
    if (this.paths.length > 0) this.paths = [];
  }

  /** The JSON text of one payload field's value (`undefined` is `null`). */
  field(key: string, value: unknown, redactor: Redactor | null): string {
    this.redactor = this.careful ? null : redactor;
    // Both counts start afresh: a CAREFUL thrown from deep inside left them anywhere.
    this.activeCount = 0;
    this.path[0] = key;
    this.pathCount = 1;
    return this.value(value, 0);
  }

  private push(part: string | number): void {
    this.path[this.pathCount++] = part;
  }

  private where(): string {
    let out = this.path[0] as string;
    for (let i = 1; i < this.pathCount; i++) {
      const part = this.path[i]!;
      out += typeof part === "number" ? `[${part}]` : `.${part}`;
    }
    return out;
  }

  private isActive(identity: object): boolean {
    const active = this.active;
    for (let i = 0; i < this.activeCount; i++) if (active[i] === identity) return true;
    return false;
  }

  private value(raw: unknown, depth: number): string {
    if (this.careful && tooDeep(raw, depth)) return JSON.stringify(NESTING_MARK);
    return this.converted(convertContained(raw), raw, depth);
  }

  private converted(value: unknown, raw: unknown, depth: number): string {
    switch (typeof value) {
      case "string":
        return this.string(value);
      case "number":
        return numberText(value);
      case "boolean":
        return value ? "true" : "false";
      case "bigint":
        return this.bigint(value);
      case "undefined":
        return "null";
    }
    if (value === null) return "null";
    return this.container(value as object, raw, depth);
  }

  private string(text: string): string {
    let out = text;
    if (this.redactor !== null) {
      out = this.redactor.scrubText(text);
      if (out !== text) this.paths.push(this.where());
    }
    if (this.careful) return JSON.stringify(fixSurrogates(truncateText(out, this.limits.maxChars)));
    if (!wellFormed(out)) throw CAREFUL;
    return JSON.stringify(out);
  }

  private key(name: string): string {
    if (this.careful) return JSON.stringify(fixSurrogates(truncateText(name, this.limits.maxChars)));
    if (!wellFormed(name)) throw CAREFUL;
    return JSON.stringify(name);
  }

  private bigint(value: bigint): string {
    if (this.careful) {
      if (value >= INT64_MIN && value < INT64_END) return value.toString();
      // Beyond 64 bits JSON readers lose precision: the exact digits go in a string.
      return JSON.stringify(truncateText(value.toString(), this.limits.maxChars));
    }
    if (value >= INT64_MIN && value < UINT64_END) return value.toString();
    throw CAREFUL;
  }

  private container(value: object, raw: unknown, depth: number): string {
    // The original object: a Map converts to a new object on every visit.
    const identity = (typeof raw === "object" && raw !== null ? raw : value) as object;
    if (this.isActive(identity)) {
      if (!this.careful) throw CAREFUL;
      return JSON.stringify(`<cycle: ${typeName(identity)}>`);
    }
    if (!this.careful && depth >= ORJSON_DEPTH) throw CAREFUL;
    const activeMark = this.activeCount;
    const pathMark = this.pathCount;
    this.active[this.activeCount++] = identity;
    try {
      return Array.isArray(value) ? this.array(value, depth) : this.record(value, depth);
    } catch (error) {
      if (error === CAREFUL) throw error;
      // A hostile container (a throwing getter or proxy trap).
      this.pathCount = pathMark;
      return JSON.stringify(couldNotRead(raw, error));
    } finally {
      this.activeCount = activeMark;
    }
  }

  private array(items: readonly unknown[], depth: number): string {
    const redactor = this.redactor;
    if (redactor !== null && items.length > 0) {
      const pairs = asPairs(items);
      if (pairs !== null) return this.pairs(pairs, redactor, depth);
    }
    const count = this.careful ? Math.min(items.length, this.limits.maxItems) : items.length;
    let out = "[";
    for (let i = 0; i < count; i++) {
      if (i > 0) out += ",";
      if (redactor !== null) this.push(i);
      out += this.value(items[i], depth + 1);
      if (redactor !== null) this.pathCount--;
    }
    if (count < items.length) {
      out += `${count > 0 ? "," : ""}${JSON.stringify(`${TRUNCATION_MARK}${items.length - count} items]`)}`;
    }
    return `${out}]`;
  }

  /**
   * Headers as `[name, value]` pairs: the value of a pair with a secret name is replaced;
   * otherwise the name is scanned as text too (a frame's rows look like pairs).
   */
  private pairs(pairs: ReadonlyArray<readonly [string, unknown]>, redactor: Redactor, depth: number): string {
    if (depth + 1 >= ORJSON_DEPTH) throw CAREFUL; // the fast way only: the pairs are containers too
    let out = "[";
    for (let i = 0; i < pairs.length; i++) {
      const [name, item] = pairs[i]!;
      if (i > 0) out += ",";
      this.push(i);
      let nameText: string;
      let text: string;
      if (item !== null && item !== "" && item !== undefined && redactor.isSecretKey(name)) {
        nameText = this.key(name);
        this.push(1);
        this.paths.push(this.where());
        text = JSON.stringify(REDACTED);
      } else {
        this.push(0);
        nameText = this.string(name);
        this.pathCount -= 1;
        this.push(1);
        text = this.converted(item, item, depth + 2);
      }
      this.pathCount -= 2;
      out += `[${nameText},${text}]`;
    }
    return `${out}]`;
  }

  private record(object: object, depth: number): string {
    const redactor = this.redactor;
    const source = object as Record<string, unknown>;
    const keys = Object.keys(source);
    const limit = this.careful ? this.limits.maxItems : Infinity;
    // Only a record cut short needs its entries kept apart (for the "…" key).
    const parts: string[] | null = keys.length > limit ? [] : null;
    let out = "{";
    let written = 0;
    let total = 0;
    let ellipsisAt = -1;
    for (const name of keys) {
      const raw = source[name];
      if (raw === undefined) continue;
      if (written >= limit) {
        total++; // counted, not written
        continue;
      }
      let text: string;
      if (this.careful && tooDeep(raw, depth + 1)) {
        text = JSON.stringify(NESTING_MARK);
      } else {
        const value = convertContained(raw);
        if (value === undefined) continue; // toJSON() said undefined: left out, as by JSON.stringify
        if (redactor !== null) {
          this.push(name);
          if (value !== null && value !== "" && redactor.isSecretKey(name)) {
            this.paths.push(this.where());
            text = JSON.stringify(REDACTED);
          } else {
            text = this.converted(value, raw, depth + 1);
          }
          this.pathCount--;
        } else {
          text = this.converted(value, raw, depth + 1);
        }
      }
      total++;
      if (parts !== null) {
        if (name === "…") ellipsisAt = parts.length;
        parts.push(`${this.key(name)}:${text}`);
      } else {
        out += `${written > 0 ? "," : ""}${this.key(name)}:${text}`;
      }
      written++;
    }
    if (parts === null) return `${out}}`;
    if (total > written) {
      // As a Python dict assignment: an existing "…" key keeps its place and gets the mark.
      const mark = `${JSON.stringify("…")}:${JSON.stringify(`${TRUNCATION_MARK}${total - written} keys]`)}`;
      if (ellipsisAt >= 0) parts[ellipsisAt] = mark;
      else parts.push(mark);
    }
    return `{${parts.join(",")}}`;
  }
}

/** The items as `[name, value]` pairs if every one converts to one (a header list), else null. */
function asPairs(items: readonly unknown[]): Array<readonly [string, unknown]> | null {
  // Cheap refusal first: a list of strings or numbers is never a header list.
  for (const item of items) {
    if (item === null || typeof item !== "object") return null;
  }
  const pairs: Array<readonly [string, unknown]> = [];
  for (const item of items) {
    let converted: unknown;
    try {
      converted = convertOne(item);
    } catch {
      return null;
    }
    if (!Array.isArray(converted) || converted.length !== 2) return null;
    let name: unknown;
    let value: unknown;
    try {
      name = convertOne(converted[0]);
      value = convertOne(converted[1]);
    } catch {
      return null;
    }
    if (typeof name !== "string") return null;
    pairs.push([name, value]);
  }
  return pairs;
}

/**
 * `value` as plain JSON data (null-prototype objects, arrays, scalars), for the
 * redactor to walk. The fast way throws `CAREFUL` where orjson would refuse; the
 * careful way converts everything (cycles, big integers, deep nesting) without
 * cutting anything for length, and leaves strings as they are (lone surrogates
 * included: the writer makes them text after redaction).
 */
export function toPlain(value: unknown, careful: boolean): unknown {
  return new PlainWalker(careful).walk(value, 0);
}

class PlainWalker {
  private readonly active = new Set<object>();

  constructor(private readonly careful: boolean) {}

  walk(raw: unknown, depth: number): unknown {
    if (this.careful && tooDeep(raw, depth)) return NESTING_MARK;
    const value = this.converted(convertContained(raw), raw, depth);
    return value === undefined ? null : value;
  }

  private converted(value: unknown, raw: unknown, depth: number): unknown {
    switch (typeof value) {
      case "string":
        // Kept as they are even the careful way: the redactor scans the text as the
        // app made it, and the writer makes lone surrogates text afterwards.
        if (!this.careful && !wellFormed(value)) throw CAREFUL;
        return value;
      case "bigint":
        if (this.careful) return value >= INT64_MIN && value < INT64_END ? value : value.toString();
        if (value >= INT64_MIN && value < UINT64_END) return value;
        throw CAREFUL;
      case "undefined":
      case "number":
      case "boolean":
        return value;
    }
    if (value === null) return null;
    const identity = (typeof raw === "object" && raw !== null ? raw : value) as object;
    if (this.active.has(identity)) {
      if (!this.careful) throw CAREFUL;
      return `<cycle: ${typeName(identity)}>`;
    }
    if (!this.careful && depth >= ORJSON_DEPTH) throw CAREFUL;
    this.active.add(identity);
    try {
      if (Array.isArray(value)) return value.map((item: unknown) => this.walk(item, depth + 1));
      const out = Object.create(null) as Record<string, unknown>;
      const source = value as Record<string, unknown>;
      for (const name of Object.keys(source)) {
        const item = source[name];
        if (item === undefined) continue;
        const converted = this.careful && tooDeep(item, depth + 1)
          ? NESTING_MARK
          : this.converted(convertContained(item), item, depth + 1);
        if (converted === undefined) continue; // toJSON() said undefined: left out
        out[this.careful ? name : checkKey(name)] = converted;
      }
      return out;
    } catch (error) {
      if (error === CAREFUL) throw error;
      return couldNotRead(raw, error);
    } finally {
      this.active.delete(identity);
    }
  }
}

function checkKey(name: string): string {
  if (!wellFormed(name)) throw CAREFUL;
  return name;
}
