/**
 * Redaction: secrets become `[REDACTED]`, and the dotted paths of what was replaced are listed.
 *
 * The same rules as the Python side (`jsontrace/processors.py`), written for
 * JavaScript's regular expressions; `tests/conformance/redaction.json` holds
 * the vectors both implementations must pass, so the two cannot drift apart.
 *
 * * A value under a key whose last `_`/`-`/`.`-separated part (or camelCase
 *   hump) is a secret name (`api_key`, `authorization`, `token`, ...) is
 *   replaced whole, unless it is null or "". Tokenizer settings such as
 *   `eos_token` and pagination cursors such as `next_page_token` are not
 *   secrets.
 * * In a list of `[name, value]` pairs (headers), the value of a pair with a
 *   secret name is replaced; the name is scanned as text, like any string.
 * * Inside any string, token shapes (`sk-...`, `Bearer ...`, `Basic ...`,
 *   GitHub, Slack, AWS and Google key shapes, plus configured patterns) are
 *   replaced, and so is the password of a URL (`scheme://user:[REDACTED]@host`).
 *
 * Python's regular expressions differ from JavaScript's in ways that matter
 * here, so the patterns spell them out: Python's `\s` (which includes
 * \x1c-\x1f and \x85 but not \ufeff), and ASCII-only case folding
 * (`(?ai:)`: for key names, "bearer" and "basic"). Every expression uses the `u`
 * flag so that lengths count code points, as Python's do.
 */

export const REDACTED = "[REDACTED]";

// Python's `\s` for str patterns, exactly (computed from Python 3.11's re module).
const PY_SPACE = "[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

// Key names whose values are secrets, matched against the end of a key. An "_" in a
// name also matches "-" or nothing ("api_key" matches "apiKey" and "X-Api-Key").
export const SECRET_KEYS: readonly string[] = [
  "api_key",
  "auth", // requests' auth=(user, password)
  "authorization",
  "password",
  "passwd",
  "passphrase",
  "secret",
  "secret_key",
  "access_key",
  "private_key",
  "token",
  "cookie",
  "credentials",
];

/** ASCII case-insensitive text for a RegExp: "api" -> "[aA][pP][iI]"; "_" -> "[_\-]?". */
function asciiInsensitive(name: string, underscoreIsOptional: boolean): string {
  let out = "";
  for (const char of name) {
    if (char === "_" && underscoreIsOptional) {
      out += "[_\\-]?";
    } else if (/[a-zA-Z]/.test(char)) {
      out += `[${char.toLowerCase()}${char.toUpperCase()}]`;
    } else {
      out += escapeRegExp(char);
    }
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/gu, "\\$&");
}

// Not secrets though they end in "token": tokenizer settings ("eos_token": "</s>") and
// pagination cursors ("next_page_token", "nextPageToken", "NextToken"), each a word of
// its own (after "_", "-", "." or a camelCase hump, or at the start).
const HARMLESS_KEY = new RegExp(
  `(?:^|[_.\\-]|(?<=[a-z0-9])(?=[A-Z]))(?:${[
    ...["bos", "eos", "pad", "unk", "sep", "cls", "mask", "stop"],
    ...["page", "next", "continuation", "pagination", "resumption"],
  ]
    .map((name) => asciiInsensitive(name, false))
    .join("|")})[_\\-]?${asciiInsensitive("token", false)}$`,
  "u",
);

// Shapes of tokens inside free text. Each starts at a word boundary, so
// "task-specific-fine-tuning" is not an "sk-" key; a bearer token must hold a digit
// or punctuation, so "the bearer instruments" stays. (?i:bearer) in Python folds no
// letter of "bearer" to anything outside ASCII.
const BUILTIN_PATTERNS: readonly string[] = [
  "(?<![A-Za-z0-9])sk-[A-Za-z0-9_\\-]{20,}", // OpenAI, Anthropic ("sk-ant-..."), project keys
  `(?<![A-Za-z0-9])[bB][eE][aA][rR][eE][rR]${PY_SPACE}+(?=[A-Za-z0-9\\-._~+/]*[0-9\\-._~+/])[A-Za-z0-9\\-._~+/]{8,}=*`,
  "(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{30,}", // GitHub tokens
  "(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{22,}", // GitHub fine-grained tokens
  "(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9\\-]{10,}", // Slack tokens
  "(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}", // AWS access key ids
  "(?<![A-Za-z0-9])AIza[0-9A-Za-z\\-_]{35}", // Google API keys
];

// HTTP Basic credentials: base64 holding a digit, "+", "/", "=" or a capital after its
// first letter, so "basic knowledge" and "Basic Income" stay. The scheme's name in any
// ASCII case ("BaSiC" too), as Python's (?ai:basic).
const BASIC_CREDENTIALS = new RegExp(
  `(?<![A-Za-z0-9])[bB][aA][sS][iI][cC]${PY_SPACE}+(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[A-Za-z0-9+/][A-Z]))[A-Za-z0-9+/]{8,}=*`,
  "gu",
);
const BASIC_WORD = /[bB][aA][sS][iI][cC]/u;
// The password in a URL, "https://user:[REDACTED]@host" (the user is kept). Searched
// only when the text holds "://".
const NOT_URL_PART = "[^\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000/?#@";
const URL_PASSWORD = new RegExp(`(?<=://)(${NOT_URL_PART}:]{1,256}:)${NOT_URL_PART}]{1,256}(?=@)`, "gu");

// Key verdicts are cached (parameter names repeat on every call); cleared when large.
const KEY_CACHE_SIZE = 4096;

/** Whether `value` is a list of `[name, value]` pairs, as headers often are. */
export function isPairList(value: readonly unknown[]): boolean {
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string") return false;
  }
  return true;
}

export class Redactor {
  private readonly key: RegExp;
  private readonly text: RegExp;
  private readonly textGlobal: RegExp;
  private readonly keyCache = new Map<string, boolean>();

  /** Throws a TypeError when a pattern is not a valid RegExp (in `u` mode). */
  constructor(keys: readonly string[] = [], patterns: readonly string[] = []) {
    const names = [...new Set([...SECRET_KEYS, ...keys.map((key) => key.toLowerCase())])].sort(
      (a, b) => b.length - a.length,
    );
    const alternatives = names.map((name) => asciiInsensitive(name, true)).join("|");
    // Case-insensitive for the name, case-sensitive for the camelCase hump before it.
    this.key = new RegExp(`(?:^|[_.\\-]|(?<=[a-z0-9])(?=[A-Z]))(?:${alternatives})$`, "u");
    for (const pattern of patterns) {
      try {
        new RegExp(pattern, "u");
      } catch (error) {
        throw new TypeError(
          `configure({redactPatterns}): ${JSON.stringify(pattern)} is not a valid RegExp in u mode: ${
            (error as Error).message
          }`,
        );
      }
    }
    const source = [...BUILTIN_PATTERNS, ...patterns].map((p) => `(?:${p})`).join("|");
    this.text = new RegExp(source, "u");
    this.textGlobal = new RegExp(source, "gu");
  }

  /** Whether a value under this key is a secret (cached). */
  isSecretKey(key: string): boolean {
    let verdict = this.keyCache.get(key);
    if (verdict === undefined) {
      verdict = this.key.test(key) && !HARMLESS_KEY.test(key);
      if (this.keyCache.size >= KEY_CACHE_SIZE) this.keyCache.clear();
      this.keyCache.set(key, verdict);
    }
    return verdict;
  }

  /** `text` with every secret shape replaced; the very same string when there is none. */
  scrubText(text: string): string {
    const hasUrl = text.includes("://");
    const hasBasic = BASIC_WORD.test(text);
    if (!this.text.test(text) && !hasUrl && !hasBasic) return text;
    let scrubbed = text.replace(this.textGlobal, REDACTED);
    if (scrubbed.includes("://")) scrubbed = scrubbed.replace(URL_PASSWORD, `$1${REDACTED}`);
    if (BASIC_WORD.test(scrubbed)) scrubbed = scrubbed.replace(BASIC_CREDENTIALS, REDACTED);
    return scrubbed === text ? text : scrubbed;
  }

  /**
   * A copy of plain JSON data with secrets replaced, listing what was replaced in `paths`
   * (`inputs.api_key`, `tags[0]`, `inputs.headers[1][1]`). Unchanged parts are shared.
   */
  scrub(value: unknown, path: string, paths: string[]): unknown {
    if (typeof value === "string") {
      const scrubbed = this.scrubText(value);
      if (scrubbed !== value) paths.push(path);
      return scrubbed;
    }
    if (Array.isArray(value)) {
      if (isPairList(value)) {
        return value.map((pair: [string, unknown], index) => {
          const where = `${path}[${index}][1]`;
          const [name, item] = pair;
          if (item !== null && item !== "" && this.isSecretKey(name)) {
            paths.push(where);
            return [name, REDACTED];
          }
          // The name is text too (a frame's rows look like pairs): scanned like any string.
          const scannedName = this.scrub(name, `${path}[${index}][0]`, paths);
          return [scannedName, this.scrub(item, where, paths)];
        });
      }
      return value.map((item, index) => this.scrub(item, `${path}[${index}]`, paths));
    }
    if (value !== null && typeof value === "object") {
      // No prototype: a key "__proto__" from the data is then an ordinary key.
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        const where = `${path}.${key}`;
        if (item !== null && item !== "" && this.isSecretKey(key)) {
          out[key] = REDACTED;
          paths.push(where);
        } else {
          out[key] = this.scrub(item, where, paths);
        }
      }
      return out;
    }
    return value;
  }
}
