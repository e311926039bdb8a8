// SPDX-License-Identifier: Apache-2.0
// A small interpreter for the subset of BIRD 1.6's filter language that Calico's confd goldens
// use (functions, `if ... then ... else`, accept/reject, attribute assignment, community and
// path operations, prefix/prefix-set/glob/path-mask matching), so the conformance test can run
// the golden filters on sample routes and compare with Tern's policies. Semantics follow BIRD:
// `accept`/`reject` anywhere end the whole filter; a function that returns goes on; comparing an
// undefined attribute is a runtime error, which rejects the route (as BIRD does).
import { cidrContains, parseCidr, type Cidr } from '../../src/calico/net.ts';

type Tok = { k: 'str' | 'sym' | 'num' | 'pfx' | 'id' | 'op'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const res: [Tok['k'] | 'skip', RegExp][] = [
    ['skip', /^(\s+|#[^\n]*)/],
    ['str', /^"([^"]*)"/],
    ['sym', /^'([^']*)'/],
    ['pfx', /^\d+\.\d+\.\d+\.\d+(\/\d+)?/],
    ['pfx', /^[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}(\/\d+)?/],
    ['num', /^\d+/],
    ['id', /^[A-Za-z_][A-Za-z0-9_]*/],
    ['op', /^(&&|\|\||!=|!~|<=|>=|[!~=<>+\-(){}[\];,.*])/],
  ];
  let s = src;
  outer: while (s.length > 0) {
    for (const [k, re] of res) {
      const m = re.exec(s);
      if (!m) continue;
      s = s.slice(m[0].length);
      if (k !== 'skip') out.push({ k, v: k === 'str' || k === 'sym' ? m[1]! : m[0] });
      continue outer;
    }
    throw new Error(`bird-filter: cannot tokenize at "${s.slice(0, 30)}"`);
  }
  return out;
}

type Expr =
  | { e: 'num'; v: number }
  | { e: 'pfx'; v: Cidr }
  | { e: 'str'; v: string }
  | { e: 'var'; v: string }
  | { e: 'defined'; v: string }
  | { e: 'tuple'; v: Expr[] }
  | { e: 'pfxset'; v: { c: Cidr; min: number; max: number }[] }
  | { e: 'enumset'; v: string[] }
  | { e: 'pathmask'; v: number[] }
  | { e: 'not'; v: Expr }
  | { e: 'bin'; op: string; l: Expr; r: Expr };

type Stmt =
  | { s: 'if'; cond: Expr; then: Stmt[]; else: Stmt[] }
  | { s: 'accept' }
  | { s: 'reject' }
  | { s: 'assign'; name: string; v: Expr }
  | { s: 'method'; obj: string; method: string; arg: Expr }
  | { s: 'call'; name: string; args: Expr[] };

class Parser {
  private i = 0;
  private readonly t: Tok[];
  constructor(t: Tok[]) {
    this.t = t;
  }
  done(): boolean {
    return this.i >= this.t.length;
  }
  peek(o = 0): Tok | undefined {
    return this.t[this.i + o];
  }
  next(): Tok {
    const t = this.t[this.i++];
    if (!t) throw new Error('bird-filter: unexpected end');
    return t;
  }
  is(v: string, o = 0): boolean {
    const t = this.peek(o);
    return t !== undefined && (t.k === 'op' || t.k === 'id') && t.v === v;
  }
  eat(v: string): boolean {
    if (this.is(v)) {
      this.i++;
      return true;
    }
    return false;
  }
  expect(v: string): void {
    if (!this.eat(v)) throw new Error(`bird-filter: expected "${v}" got "${this.peek()?.v}"`);
  }

  block(): Stmt[] {
    const out: Stmt[] = [];
    while (!this.is('}')) out.push(...this.stmt());
    return out;
  }

  /** One statement (a `{...}` block yields its statements). */
  stmt(): Stmt[] {
    if (this.eat(';')) return [];
    if (this.eat('{')) {
      const b = this.block();
      this.expect('}');
      return b;
    }
    if (this.eat('if')) {
      const cond = this.expr();
      this.expect('then');
      const then = this.stmt();
      const els = this.eat('else') ? this.stmt() : [];
      return [{ s: 'if', cond, then, else: els }];
    }
    if (this.eat('accept')) return this.end({ s: 'accept' });
    if (this.eat('reject')) return this.end({ s: 'reject' });
    const t = this.next();
    if (t.k === 'sym' || (t.k === 'id' && this.is('('))) {
      this.expect('(');
      const args: Expr[] = [];
      if (!this.is(')')) do args.push(this.expr());
      while (this.eat(','));
      this.expect(')');
      return this.end({ s: 'call', name: t.v, args });
    }
    if (t.k === 'id' && this.eat('.')) {
      const method = this.next().v;
      this.expect('(');
      const arg = this.expr();
      this.expect(')');
      return this.end({ s: 'method', obj: t.v, method, arg });
    }
    if (t.k === 'id' && this.eat('=')) return this.end({ s: 'assign', name: t.v, v: this.expr() });
    throw new Error(`bird-filter: unknown statement at "${t.v}"`);
  }
  private end(s: Stmt): Stmt[] {
    this.eat(';');
    return [s];
  }

  expr(): Expr {
    let l = this.and();
    while (this.eat('||')) l = { e: 'bin', op: '||', l, r: this.and() };
    return l;
  }
  private and(): Expr {
    let l = this.cmp();
    while (this.eat('&&')) l = { e: 'bin', op: '&&', l, r: this.cmp() };
    return l;
  }
  private cmp(): Expr {
    const l = this.add();
    for (const op of ['=', '!=', '~', '!~', '<', '>', '<=', '>=']) if (this.eat(op)) return { e: 'bin', op, l, r: this.add() };
    return l;
  }
  private add(): Expr {
    let l = this.unary();
    for (;;) {
      if (this.eat('-')) l = { e: 'bin', op: '-', l, r: this.unary() };
      else if (this.eat('+')) l = { e: 'bin', op: '+', l, r: this.unary() };
      else return l;
    }
  }
  private unary(): Expr {
    if (this.eat('!')) return { e: 'not', v: this.unary() };
    return this.primary();
  }
  private primary(): Expr {
    if (this.eat('(')) {
      const first = this.expr();
      if (this.eat(',')) {
        const items = [first];
        do items.push(this.expr());
        while (this.eat(','));
        this.expect(')');
        return { e: 'tuple', v: items };
      }
      this.expect(')');
      return first;
    }
    if (this.eat('[')) return this.set();
    const t = this.next();
    if (t.k === 'num') return { e: 'num', v: Number(t.v) };
    if (t.k === 'str') return { e: 'str', v: t.v };
    if (t.k === 'pfx') return { e: 'pfx', v: parseCidr(t.v)! };
    if (t.k === 'id' && t.v === 'defined') {
      this.expect('(');
      const name = this.next().v;
      this.expect(')');
      return { e: 'defined', v: name };
    }
    if (t.k === 'id') return { e: 'var', v: t.v };
    throw new Error(`bird-filter: unexpected "${t.v}"`);
  }
  private set(): Expr {
    if (this.eat('=')) {
      const asns: number[] = [];
      while (!this.eat('=')) {
        const t = this.next();
        if (t.v === '*') break;
        asns.push(Number(t.v));
      }
      this.eat('=');
      this.expect(']');
      return { e: 'pathmask', v: asns };
    }
    if (this.peek()?.k === 'pfx') {
      const items: { c: Cidr; min: number; max: number }[] = [];
      do {
        const c = parseCidr(this.next().v)!;
        let min = c.length;
        let max = c.length;
        if (this.eat('{')) {
          min = Number(this.next().v);
          this.expect(',');
          max = Number(this.next().v);
          this.expect('}');
        }
        items.push({ c, min, max });
      } while (this.eat(','));
      this.expect(']');
      return { e: 'pfxset', v: items };
    }
    const names: string[] = [];
    do names.push(this.next().v);
    while (this.eat(','));
    this.expect(']');
    return { e: 'enumset', v: names };
  }
}

/** A route as BIRD's filters see it. */
export interface BirdRoute {
  net: Cidr;
  source: 'RTS_BGP' | 'RTS_STATIC' | 'RTS_INHERIT' | 'RTS_DEVICE';
  ifname?: string;
  communities: Set<string>;
  large: Set<string>;
  path: number[];
  localPref?: number;
  krtMetric?: number;
  nextHop?: Cidr;
  krtTunnel?: string;
  preference?: number;
}

class Verdict {
  readonly accept: boolean;
  constructor(accept: boolean) {
    this.accept = accept;
  }
}
class RuntimeFault extends Error {}

type Val = number | boolean | string | Cidr | Val[] | { set: Expr } | undefined;

export interface FilterResult {
  accept: boolean;
  route: BirdRoute;
  fault?: string;
}

/** The functions of a set of BIRD config texts, by name. */
export class BirdProgram {
  readonly functions = new Map<string, { params: string[]; body: Stmt[] }>();
  readonly filters = new Map<string, Stmt[]>();

  add(text: string): void {
    const p = new Parser(tokenize(text));
    while (!p.done()) {
      if (p.eat('function')) {
        const t = p.next();
        p.expect('(');
        const params: string[] = [];
        while (!p.eat(')')) {
          const tok = p.next();
          if (tok.k === 'id' && tok.v !== 'bool' && tok.v !== 'int') params.push(tok.v);
        }
        p.expect('{');
        const body = p.block();
        p.expect('}');
        this.functions.set(t.v, { params, body });
      } else if (p.is('filter') && p.peek(1)?.k === 'id' && p.peek(2)?.v === '{') {
        p.next();
        const name = p.next().v;
        p.expect('{');
        this.filters.set(name, p.block());
        p.expect('}');
      } else p.next();
    }
  }

  /** Parse the body of an inline `import filter { ... }`. */
  static body(text: string): Stmt[] {
    const p = new Parser(tokenize(text));
    const out: Stmt[] = [];
    while (!p.done()) out.push(...p.stmt());
    return out;
  }

  run(body: Stmt[], route: BirdRoute): FilterResult {
    const r: BirdRoute = { ...route, communities: new Set(route.communities), large: new Set(route.large), path: [...route.path] };
    try {
      this.exec(body, r, new Map());
      return { accept: false, route: r, fault: 'fell off the end' }; // BIRD: a filter without a verdict rejects
    } catch (e) {
      if (e instanceof Verdict) return { accept: e.accept, route: r };
      if (e instanceof RuntimeFault) return { accept: false, route: r, fault: e.message };
      throw e;
    }
  }

  private exec(stmts: Stmt[], r: BirdRoute, vars: Map<string, Val>): void {
    for (const s of stmts) {
      switch (s.s) {
        case 'accept':
          throw new Verdict(true);
        case 'reject':
          throw new Verdict(false);
        case 'if':
          this.exec(this.truthy(this.eval(s.cond, r, vars)) ? s.then : s.else, r, vars);
          break;
        case 'assign':
          this.assign(s.name, this.eval(s.v, r, vars), r);
          break;
        case 'method':
          this.method(s, r, vars);
          break;
        case 'call': {
          const f = this.functions.get(s.name);
          if (!f) throw new Error(`bird-filter: unknown function ${s.name}`);
          const local = new Map<string, Val>();
          f.params.forEach((p, i) => local.set(p, this.eval(s.args[i]!, r, vars)));
          this.exec(f.body, r, local);
          break;
        }
      }
    }
  }

  private truthy(v: Val): boolean {
    if (typeof v !== 'boolean') throw new RuntimeFault('condition is not a boolean');
    return v;
  }

  private assign(name: string, v: Val, r: BirdRoute): void {
    if (name === 'krt_metric') r.krtMetric = v as number;
    else if (name === 'bgp_local_pref') r.localPref = v as number;
    else if (name === 'preference') r.preference = v as number;
    else if (name === 'krt_tunnel') r.krtTunnel = v as string;
    else throw new Error(`bird-filter: assignment to ${name}`);
  }

  private method(s: Extract<Stmt, { s: 'method' }>, r: BirdRoute, vars: Map<string, Val>): void {
    const arg = this.eval(s.arg, r, vars);
    if (s.obj === 'bgp_community' && s.method === 'add') r.communities.add((arg as number[]).join(','));
    else if (s.obj === 'bgp_large_community' && s.method === 'add') r.large.add((arg as number[]).join(','));
    else if (s.obj === 'bgp_path' && s.method === 'prepend') r.path.unshift(arg as number);
    else throw new Error(`bird-filter: ${s.obj}.${s.method}`);
  }

  private attr(name: string, r: BirdRoute): Val {
    switch (name) {
      case 'net':
        return r.net;
      case 'source':
        return r.source;
      case 'ifname':
        return r.ifname;
      case 'bgp_local_pref':
        return r.localPref;
      case 'krt_metric':
        return r.krtMetric;
      case 'bgp_next_hop':
        return r.nextHop;
      case 'true':
        return true;
      case 'false':
        return false;
      default:
        if (/^RTS_/.test(name)) return name;
        throw new Error(`bird-filter: unknown attribute ${name}`);
    }
  }

  private eval(x: Expr, r: BirdRoute, vars: Map<string, Val>): Val {
    switch (x.e) {
      case 'num':
      case 'pfx':
      case 'str':
        return x.v;
      case 'var':
        return vars.has(x.v) ? vars.get(x.v) : this.attr(x.v, r);
      case 'defined':
        return this.attr(x.v, r) !== undefined;
      case 'tuple':
        return x.v.map((e) => this.eval(e, r, vars) as number);
      case 'pfxset':
      case 'enumset':
      case 'pathmask':
        return { set: x };
      case 'not':
        return !this.truthy(this.eval(x.v, r, vars));
      case 'bin':
        return this.binary(x, r, vars);
    }
  }

  private binary(x: Extract<Expr, { e: 'bin' }>, r: BirdRoute, vars: Map<string, Val>): Val {
    if (x.op === '&&') return this.truthy(this.eval(x.l, r, vars)) && this.truthy(this.eval(x.r, r, vars));
    if (x.op === '||') return this.truthy(this.eval(x.l, r, vars)) || this.truthy(this.eval(x.r, r, vars));
    // `(a, b) ~ bgp_community`: the right side names the route's community list.
    if ((x.op === '~' || x.op === '!~') && x.r.e === 'var' && (x.r.v === 'bgp_community' || x.r.v === 'bgp_large_community')) {
      const key = (this.eval(x.l, r, vars) as number[]).join(',');
      const has = (x.r.v === 'bgp_community' ? r.communities : r.large).has(key);
      return x.op === '~' ? has : !has;
    }
    if ((x.op === '~' || x.op === '!~') && x.l.e === 'var' && x.l.v === 'bgp_path') {
      const mask = (x.r as Extract<Expr, { e: 'pathmask' }>).v;
      const ok = mask.every((a, i) => r.path[i] === a);
      return x.op === '~' ? ok : !ok;
    }
    const l = this.eval(x.l, r, vars);
    const rv = this.eval(x.r, r, vars);
    if (l === undefined || rv === undefined) throw new RuntimeFault(`undefined operand of ${x.op}`);
    switch (x.op) {
      case '-':
        return (l as number) - (rv as number);
      case '+':
        return (l as number) + (rv as number);
      case '<':
        return (l as number) < (rv as number);
      case '>':
        return (l as number) > (rv as number);
      case '<=':
        return (l as number) <= (rv as number);
      case '>=':
        return (l as number) >= (rv as number);
      case '=':
        return equal(l, rv);
      case '!=':
        return !equal(l, rv);
      case '~':
        return this.matches(l, rv);
      case '!~':
        return !this.matches(l, rv);
    }
    throw new Error(`bird-filter: operator ${x.op}`);
  }

  private matches(l: Val, r: Val): boolean {
    if (typeof l === 'string' && typeof r === 'string') return glob(r, l);
    if (r && typeof r === 'object' && 'set' in r) {
      const s = r.set;
      if (s.e === 'enumset') return s.v.includes(l as string);
      if (s.e === 'pfxset') {
        const n = l as Cidr;
        return s.v.some((it) => cidrContains(it.c, n) && n.length >= it.min && n.length <= it.max);
      }
    }
    if (isCidr(l) && isCidr(r)) return cidrContains(r, l);
    throw new RuntimeFault('bad ~ operands');
  }
}

function isCidr(v: Val): v is Cidr {
  return typeof v === 'object' && v !== null && 'bytes' in v;
}

function equal(a: Val, b: Val): boolean {
  if (isCidr(a) && isCidr(b)) return a.length === b.length && cidrContains(a, b) && cidrContains(b, a);
  return a === b;
}

/** BIRD's shell-like pattern match: `*` any run, `?` one character. */
export function glob(pattern: string, text: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(text);
}
