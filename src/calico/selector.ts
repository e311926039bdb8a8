// SPDX-License-Identifier: Apache-2.0
// Calico's selector language (not Kubernetes label selectors), as used by BGPPeer
// nodeSelector / peerSelector / localWorkloadSelector:
//   all()  global()  has(k)  k == "v"  k != "v"  k in {"a", "b"}  k not in {...}
//   k contains "s"  k starts with "s"  k ends with "s"  !e  e && e  e || e  (e)
// Strings take single or double quotes. `&&` binds tighter than `||`; `!` tighter than both.
// `k != v` and `k not in {...}` hold when the label is absent (as in libcalico-go).
// Parses to a closure; throws SelectorError with the offset on malformed input.

export type Labels = Readonly<Record<string, string>>;
export type Selector = (labels: Labels) => boolean;

export class SelectorError extends Error {}

type Tok =
  | { t: 'ident'; v: string; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'op'; v: string; at: number };

const IDENT = /[A-Za-z0-9_./-]/;

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['&&', '||', '==', '!='].includes(two)) {
      out.push({ t: 'op', v: two, at: i });
      i += 2;
      continue;
    }
    if ('!(){},'.includes(c)) {
      out.push({ t: 'op', v: c, at: i });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new SelectorError(`unterminated string at ${i}`);
      out.push({ t: 'str', v: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    if (IDENT.test(c)) {
      let j = i;
      while (j < src.length && IDENT.test(src[j]!)) j++;
      out.push({ t: 'ident', v: src.slice(i, j), at: i });
      i = j;
      continue;
    }
    throw new SelectorError(`unexpected "${c}" at ${i}`);
  }
  return out;
}

class Parser {
  private pos = 0;
  private readonly toks: Tok[];
  private readonly src: string;

  constructor(toks: Tok[], src: string) {
    this.toks = toks;
    this.src = src;
  }

  parse(): Selector {
    if (this.toks.length === 0) return () => true; // the empty selector selects everything
    const e = this.or();
    if (this.pos < this.toks.length) this.fail('unexpected token');
    return e;
  }

  private peek(): Tok | undefined {
    return this.toks[this.pos];
  }

  private fail(msg: string): never {
    const at = this.peek()?.at ?? this.src.length;
    throw new SelectorError(`${msg} at ${at} in selector "${this.src}"`);
  }

  private eatOp(v: string): boolean {
    const t = this.peek();
    if (t && t.t === 'op' && t.v === v) {
      this.pos++;
      return true;
    }
    return false;
  }

  private eatWord(v: string): boolean {
    const t = this.peek();
    if (t && t.t === 'ident' && t.v === v) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expectOp(v: string): void {
    if (!this.eatOp(v)) this.fail(`expected "${v}"`);
  }

  private string(): string {
    const t = this.peek();
    if (!t || t.t !== 'str') this.fail('expected a quoted string');
    this.pos++;
    return t.v;
  }

  private or(): Selector {
    const parts = [this.and()];
    while (this.eatOp('||')) parts.push(this.and());
    return parts.length === 1 ? parts[0]! : (l) => parts.some((p) => p(l));
  }

  private and(): Selector {
    const parts = [this.unary()];
    while (this.eatOp('&&')) parts.push(this.unary());
    return parts.length === 1 ? parts[0]! : (l) => parts.every((p) => p(l));
  }

  private unary(): Selector {
    if (this.eatOp('!')) {
      const inner = this.unary();
      return (l) => !inner(l);
    }
    if (this.eatOp('(')) {
      const inner = this.or();
      this.expectOp(')');
      return inner;
    }
    return this.term();
  }

  private term(): Selector {
    const t = this.peek();
    if (!t || t.t !== 'ident') this.fail('expected a label or function');
    this.pos++;
    if ((t.v === 'all' || t.v === 'global') && this.eatOp('(')) {
      this.expectOp(')');
      return () => true;
    }
    if (t.v === 'has' && this.eatOp('(')) {
      const k = this.peek();
      if (!k || k.t !== 'ident') this.fail('expected a label name');
      this.pos++;
      this.expectOp(')');
      return (l) => Object.hasOwn(l, k.v);
    }
    return this.comparison(t.v);
  }

  private comparison(key: string): Selector {
    const get = (l: Labels): string | undefined => (Object.hasOwn(l, key) ? l[key] : undefined);
    if (this.eatOp('==')) {
      const v = this.string();
      return (l) => get(l) === v;
    }
    if (this.eatOp('!=')) {
      const v = this.string();
      return (l) => get(l) !== v;
    }
    if (this.eatWord('in')) {
      const set = this.set();
      return (l) => {
        const v = get(l);
        return v !== undefined && set.has(v);
      };
    }
    if (this.eatWord('not')) {
      if (!this.eatWord('in')) this.fail('expected "in" after "not"');
      const set = this.set();
      return (l) => {
        const v = get(l);
        return v === undefined || !set.has(v);
      };
    }
    if (this.eatWord('contains')) {
      const s = this.string();
      return (l) => get(l)?.includes(s) ?? false;
    }
    if (this.eatWord('starts')) {
      if (!this.eatWord('with')) this.fail('expected "with"');
      const s = this.string();
      return (l) => get(l)?.startsWith(s) ?? false;
    }
    if (this.eatWord('ends')) {
      if (!this.eatWord('with')) this.fail('expected "with"');
      const s = this.string();
      return (l) => get(l)?.endsWith(s) ?? false;
    }
    return this.fail(`expected an operator after "${key}"`);
  }

  private set(): Set<string> {
    this.expectOp('{');
    const out = new Set<string>();
    if (this.eatOp('}')) return out;
    do out.add(this.string());
    while (this.eatOp(','));
    this.expectOp('}');
    return out;
  }
}

export function parseSelector(src: string): Selector {
  return new Parser(tokenize(src), src).parse();
}
