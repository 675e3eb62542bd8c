/**
 * The one configuration object: read from the environment at load, changed by `configure()`.
 *
 * The same variables as the Python side, with the same meaning:
 * `JSONTRACE_DIR` (default `./logs`, made absolute at once so a later
 * `process.chdir()` does not move the files), `JSONTRACE_ENABLED`,
 * `JSONTRACE_MAX_BYTES` (with `k`/`M`/`G` suffixes) and `JSONTRACE_REDACT`.
 * A bad value is warned about in one line and the default is used: a typo in
 * the environment must not stop the app from starting.
 */

import { resolve } from "node:path";
import { Redactor } from "./redact.js";
import { reportOnce } from "./warn.js";

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_CHARS = 100_000;
export const DEFAULT_MAX_ITEMS = 10_000;

/** Settings of the tracer (read them with `getConfig()`, change them with `configure()`). */
export interface Config {
  /** Directory for the segment files; created (mode 0700) on the first write. */
  readonly dir: string;
  /** Master switch. Off, a traced function costs one property check per call. */
  readonly enabled: boolean;
  /** A segment that would grow past this many bytes is closed and a new one opened. */
  readonly maxBytes: number;
  /** Keep at most this many of this process's segment files (null: keep all). */
  readonly maxSegments: number | null;
  /** Strings longer than this many characters (code points) are cut, with a mark. */
  readonly maxChars: number;
  /** Arrays and objects with more entries than this are cut the same way. */
  readonly maxItems: number;
  /** Scrub secrets (keys like `api_key`, strings like `sk-...`) before writing. */
  readonly redact: boolean;
  /** Extra key names (matched as the last `_`/`-`/`.`-separated part, any case) to redact. */
  readonly redactKeys: readonly string[];
  /** Extra patterns whose matches inside strings are redacted (RegExp source, `u` mode). */
  readonly redactPatterns: readonly string[];
}

/** What `configure()` accepts: any subset of the settings. */
export interface ConfigureOptions {
  dir?: string;
  enabled?: boolean;
  maxBytes?: number;
  /** 0 or null: keep every segment. */
  maxSegments?: number | null;
  maxChars?: number;
  maxItems?: number;
  redact?: boolean;
  redactKeys?: readonly string[];
  redactPatterns?: readonly (string | RegExp)[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** The configuration the environment gives (warning once about each bad value). */
export function fromEnv(env: Env): Config {
  const dirValue = env["JSONTRACE_DIR"];
  const enabledValue = env["JSONTRACE_ENABLED"];
  const redactValue = env["JSONTRACE_REDACT"];
  const maxBytesValue = env["JSONTRACE_MAX_BYTES"];
  return {
    dir: resolve(dirValue !== undefined && dirValue.trim() ? dirValue : "logs"),
    enabled: enabledValue === undefined ? true : parseBool("JSONTRACE_ENABLED", enabledValue, true),
    maxBytes:
      maxBytesValue === undefined
        ? DEFAULT_MAX_BYTES
        : parseSize("JSONTRACE_MAX_BYTES", maxBytesValue, DEFAULT_MAX_BYTES),
    maxSegments: null,
    maxChars: DEFAULT_MAX_CHARS,
    maxItems: DEFAULT_MAX_ITEMS,
    redact: redactValue === undefined ? true : parseBool("JSONTRACE_REDACT", redactValue, true),
    redactKeys: [],
    redactPatterns: [],
  };
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);

export function parseBool(name: string, value: string, fallback: boolean): boolean {
  const lowered = value.trim().toLowerCase();
  if (TRUE.has(lowered)) return true;
  if (FALSE.has(lowered)) return false;
  reportOnce(
    `env:${name}`,
    `${name}=${JSON.stringify(value)} is not a boolean (use 1 or 0); using ${fallback ? 1 : 0}`,
  );
  return fallback;
}

const UNITS: Readonly<Record<string, number>> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export function parseSize(name: string, value: string, fallback: number): number {
  let text = value.trim().toLowerCase();
  let multiplier = 1;
  const unit = UNITS[text.slice(-1)];
  if (unit !== undefined) {
    multiplier = unit;
    text = text.slice(0, -1);
  }
  // As Python's int(): optional sign, digits, underscores between digits, spaces around.
  const size = /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(text) ? Number(text.replace(/_/g, "")) * multiplier : 0;
  if (!Number.isSafeInteger(size) || size <= 0) {
    reportOnce(
      `env:${name}`,
      `${name}=${JSON.stringify(value)} is not a positive size (e.g. 1048576 or 64M); using ${fallback}`,
    );
    return fallback;
  }
  return size;
}

let current: Config = fromEnv(process.env);
const listeners: Array<(config: Config, previous: Config) => void> = [];

/** The settings in force. */
export function getConfig(): Config {
  return current;
}

/** Called after every change (the pipeline rebuilds its redactor and writer). */
export function onConfigChange(listener: (config: Config, previous: Config) => void): void {
  listeners.push(listener);
}

/**
 * Change the tracer's settings; options left out keep their current value.
 *
 * Throws a `TypeError` at once for a setting that can never work (a negative
 * size, an invalid pattern): that is a programming error caught at start-up,
 * not a failure of tracing at run time. Nothing changes then.
 */
export function configure(options: ConfigureOptions): void {
  const next: { -readonly [K in keyof Config]: Config[K] } = { ...current };
  if (options.dir !== undefined) {
    if (typeof options.dir !== "string" || !options.dir) {
      throw new TypeError(`configure({dir}) must be a non-empty path, got ${describe(options.dir)}`);
    }
    next.dir = resolve(options.dir);
  }
  for (const name of ["enabled", "redact"] as const) {
    const flag = options[name];
    if (flag !== undefined) {
      if (typeof flag !== "boolean") {
        throw new TypeError(`configure({${name}}) must be true or false, got ${describe(flag)}`);
      }
      next[name] = flag;
    }
  }
  for (const name of ["maxBytes", "maxChars", "maxItems"] as const) {
    const value = options[name];
    if (value !== undefined) next[name] = checkInt(name, value, 1);
  }
  if (options.maxSegments !== undefined) {
    next.maxSegments =
      options.maxSegments === null ? null : checkInt("maxSegments", options.maxSegments, 0) || null;
  }
  if (options.redactKeys !== undefined) {
    next.redactKeys = checkStrings("redactKeys", options.redactKeys);
  }
  if (options.redactPatterns !== undefined) {
    next.redactPatterns = checkPatterns(options.redactPatterns);
  }
  // The redactor joins the patterns into one expression: check that it can (duplicate
  // group names, say) before anything changes.
  new Redactor(next.redactKeys, next.redactPatterns);
  const previous = current;
  current = Object.freeze(next);
  for (const listener of listeners) listener(current, previous);
}

/** Return to the settings taken from the environment (for tests; reads it again). */
export function resetDefaults(env: Env = process.env): void {
  const previous = current;
  current = Object.freeze(fromEnv(env));
  for (const listener of listeners) listener(current, previous);
}

function describe(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
  } catch {
    return typeof value;
  }
}

function checkInt(name: string, value: unknown, minimum: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum) {
    throw new TypeError(`configure({${name}}) must be an integer >= ${minimum}, got ${describe(value)}`);
  }
  return value;
}

function checkStrings(name: string, values: unknown): readonly string[] {
  // A bare string is iterable too: redactKeys: "session" would redact keys ending in "s", "e", ...
  if (!Array.isArray(values)) {
    throw new TypeError(`configure({${name}}) must be an array of strings, got ${describe(values)}`);
  }
  for (const item of values) {
    if (typeof item !== "string" || !item) {
      throw new TypeError(`configure({${name}}) must hold non-empty strings, got ${describe(item)}`);
    }
  }
  return Object.freeze([...(values as string[])]);
}

function checkPatterns(values: unknown): readonly string[] {
  if (!Array.isArray(values)) {
    throw new TypeError(`configure({redactPatterns}) must be an array, got ${describe(values)}`);
  }
  const sources: string[] = [];
  for (const item of values as unknown[]) {
    if (item instanceof RegExp) {
      // The patterns are joined into one expression with the built-in ones, so a flag
      // cannot apply to one of them alone (Node 20 has no inline "(?i:...)").
      if (/[imsdv]/.test(item.flags)) {
        throw new TypeError(
          `configure({redactPatterns}): ${String(item)} has flags "${item.flags}"; only g, u and y are allowed ` +
            "(write case-insensitivity as [Aa] classes)",
        );
      }
      sources.push(item.source);
    } else if (typeof item === "string" && item) {
      sources.push(item);
    } else {
      throw new TypeError(`configure({redactPatterns}) must hold strings or RegExps, got ${describe(item)}`);
    }
  }
  for (const source of sources) {
    try {
      // As the redactor compiles them: joined with the built-in patterns, in u mode.
      new RegExp(source, "u");
    } catch (error) {
      throw new TypeError(
        `configure({redactPatterns}): ${JSON.stringify(source)} is not a valid RegExp in u mode: ${(error as Error).message}`,
      );
    }
  }
  return Object.freeze(sources);
}
