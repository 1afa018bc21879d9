/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1): one header may hold several challenges, each a
 * scheme followed by either a token68 or comma-separated `name=value` params whose values may be
 * quoted strings containing commas, `=` and backslash escapes. Schemes and param names are
 * case-insensitive, so both come back lowercased. Unquoted values are taken up to the next comma
 * or space, which tolerates registries that leave URLs unquoted.
 */
export interface Challenge {
  /** Lowercased: `basic`, `bearer`, … */
  scheme: string;
  /** Param names lowercased; values as sent (quotes and escapes removed). */
  params: Record<string, string>;
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** Skips spaces and list separators between challenges or params. */
  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }

  token(): string {
    const start = this.pos;
    while (!this.done && TOKEN_CHAR.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  quoted(): string {
    this.pos++; // opening quote
    let out = '';
    while (!this.done && this.peek() !== '"') {
      if (this.peek() === '\\') this.pos++;
      out += this.peek();
      this.pos++;
    }
    this.pos++; // closing quote (or past the end of an unterminated string)
    return out;
  }

  bareValue(): string {
    const start = this.pos;
    while (!this.done && !/[,\s]/.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

/** Reads `name=value` params until the text ends or the next challenge's scheme begins. */
function readParams(cursor: Cursor, challenge: Challenge): void {
  for (;;) {
    cursor.skipSeparators();
    if (cursor.done) return;
    const start = cursor.pos;
    const name = cursor.token();
    cursor.skipSpaces();
    if (!name || cursor.peek() !== '=') {
      cursor.pos = start; // a new scheme (or junk the caller skips)
      return;
    }
    cursor.pos++;
    cursor.skipSpaces();
    challenge.params[name.toLowerCase()] = cursor.peek() === '"' ? cursor.quoted() : cursor.bareValue();
  }
}

/**
 * A token68 (`Negotiate abc==`) is the scheme's only credential: a run of token68 characters
 * ending at a comma or the end. `realm="x"` and `realm=x` do not match: the `=` is followed by more.
 */
function readToken68(cursor: Cursor): string | undefined {
  const m = /^([A-Za-z0-9\-._~+/]+=*)[ \t]*(?:,|$)/.exec(cursor.text.slice(cursor.pos));
  if (!m?.[1]) return undefined;
  cursor.pos += m[1].length;
  return m[1];
}

export function parseWwwAuthenticate(header: string): Challenge[] {
  const cursor = new Cursor(header);
  const challenges: Challenge[] = [];
  for (;;) {
    cursor.skipSeparators();
    if (cursor.done) return challenges;
    const scheme = cursor.token();
    if (!scheme) {
      cursor.pos++; // not a token character: skip it rather than loop forever
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    cursor.skipSpaces();
    const token68 = readToken68(cursor);
    if (token68 !== undefined) challenge.token68 = token68;
    else readParams(cursor, challenge);
  }
}
