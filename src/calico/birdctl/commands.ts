// SPDX-License-Identifier: Apache-2.0
// The commands of BIRD 1.6's CLI grammar (nest/config.Y, nest/proto.c, nest/rt-table.c) that
// Calico and its users send, parsed from one line and answered as a Reply:
//   show status | show protocols [all] [NAME | "PATTERN"] | show memory
//   show route [all] [count|stats] [primary] [filtered] [table master] [for ADDR|PREFIX]
//              [ADDR|PREFIX] [protocol NAME]
//   restrict | configure [soft] | enable|disable|restart NAME|"PATTERN"|all | down | quit | exit
// Errors are BIRD's: 9001 syntax error (and its specific 9001 texts), 9002 not a protocol,
// 8001 network not in table, 8003 no protocols match, 8007 access denied after `restrict`.
// Deviations: `quit`/`exit` close the connection (BIRD answers 9001; its clients handle them
// locally); `down` is refused with 8007 (Tern is not stopped through this socket); `where`,
// `filter` and `export` are not supported (9001). Keywords must be written out (the real
// birdc/birdcl expand abbreviations before sending, BIRD's server does not).
import { globMatch } from '../../kernel-sync/interfaces.ts';
import { ipToBytes } from '../../util/ip.ts';
import { inPrefix } from '../../kernel-sync/interfaces.ts';
import { Code, errorReply, reply, table, type Reply, type ReplyLine } from './frame.ts';
import { memoryReply, protocolsReply, routeCountReply, routesReply, statusReply } from './format.ts';
import type { BirdProtocol, BirdRoute, BirdSnapshot } from './model.ts';

export type ProtocolAction = 'enable' | 'disable' | 'restart';

/** What the commands read and do; the server builds one per socket (family). */
export interface BirdBackend {
  family: 'ipv4' | 'ipv6';
  snapshot(): BirdSnapshot;
  memory(): [string, number][];
  /** `configure`: reload the configuration; the file read, and the error if it was refused. */
  configure?(): Promise<{ file: string; error?: string }>;
  /** Enable/disable/restart one BGP peer: false when it already was in that state. */
  protocolAction?(action: ProtocolAction, name: string): Promise<boolean>;
}

export interface CliSession {
  restricted: boolean;
}

export type CommandResult = Reply | 'quit';

interface Token {
  text: string;
  quoted: boolean;
}

const SYNTAX_ERROR = errorReply(Code.SyntaxError, 'syntax error');

/** Words and "quoted strings", as BIRD's lexer splits a command line; undefined if a quote is open. */
export function tokenize(line: string): Token[] | undefined {
  const out: Token[] = [];
  const re = /\s*(?:"([^"]*)"|([^\s"]+))/y;
  let pos = 0;
  while (pos < line.length) {
    if (/^\s*$/.test(line.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(line);
    if (!m) return undefined;
    out.push(m[1] !== undefined ? { text: m[1], quoted: true } : { text: m[2]!, quoted: false });
    pos = re.lastIndex;
  }
  return out;
}

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export async function executeCommand(line: string, backend: BirdBackend, session: CliSession): Promise<CommandResult> {
  const tokens = tokenize(line);
  if (!tokens || tokens.length === 0 || tokens[0]!.quoted) return SYNTAX_ERROR;
  const [first, ...rest] = tokens.map((t) => t.text);
  switch (first) {
    case 'show':
      return show(tokens.slice(1), backend);
    case 'restrict':
      if (rest.length) return SYNTAX_ERROR;
      session.restricted = true;
      return reply({ code: Code.AccessRestricted, text: 'Access restricted' });
    case 'quit':
    case 'exit':
      return 'quit';
    case 'configure':
    case 'down':
    case 'enable':
    case 'disable':
    case 'restart':
      // cli_access_restricted(): every command that changes state is refused after `restrict`.
      if (session.restricted || first === 'down') return errorReply(Code.AccessDenied, 'Access denied');
      return first === 'configure' ? configure(rest, backend) : protocolCommand(first as ProtocolAction, tokens.slice(1), backend);
    default:
      return SYNTAX_ERROR;
  }
}

function show(args: Token[], backend: BirdBackend): Reply {
  const what = args[0];
  if (!what || what.quoted) return SYNTAX_ERROR;
  const rest = args.slice(1);
  switch (what.text) {
    case 'status':
      return rest.length ? SYNTAX_ERROR : statusReply(backend.snapshot().status);
    case 'protocols':
      return showProtocols(rest, backend.snapshot());
    case 'route':
      return showRoute(rest, backend);
    case 'memory':
      return rest.length ? SYNTAX_ERROR : memoryReply(backend.memory());
    default:
      return SYNTAX_ERROR;
  }
}

/** Protocols selected by a NAME (9002 when unknown) or a "PATTERN" (8003 when none match). */
function selectProtocols(arg: Token | undefined, protocols: BirdProtocol[]): BirdProtocol[] | Reply {
  if (!arg) return protocols;
  if (arg.quoted) {
    const hit = protocols.filter((p) => globMatch(arg.text, p.name));
    return hit.length ? hit : errorReply(Code.NoProtocolsMatch, 'No protocols match');
  }
  if (!SYMBOL.test(arg.text)) return SYNTAX_ERROR;
  const hit = protocols.filter((p) => p.name === arg.text);
  return hit.length ? hit : errorReply(Code.NotAProtocol, `${arg.text} is not a protocol`);
}

function showProtocols(args: Token[], snap: BirdSnapshot): Reply {
  let rest = args;
  const all = rest[0]?.text === 'all' && !rest[0].quoted;
  if (all) rest = rest.slice(1);
  if (rest.length > 1) return SYNTAX_ERROR;
  const selected = selectProtocols(rest[0], snap.protocols);
  if (!Array.isArray(selected)) return selected;
  return protocolsReply(selected, all, snap.status.now);
}

// ===== show route =====
interface RouteQuery {
  all: boolean;
  count: boolean;
  stats: boolean;
  primary: boolean;
  filtered: boolean;
  exact?: { address: Uint8Array; length: number };
  covering?: { address: Uint8Array; length: number };
  protocol?: string;
}

/** An address or prefix of the socket's family, or BIRD's error for it. */
function parseNet(text: string, family: 'ipv4' | 'ipv6'): { address: Uint8Array; length: number } | Reply {
  const [addr = '', len] = text.split('/');
  const looksV4 = /^\d+\.\d+\.\d+\.\d+$/.test(addr);
  const looksV6 = addr.includes(':');
  if (family === 'ipv4' && looksV6) return errorReply(Code.SyntaxError, 'This is an IPv4 router, therefore IPv6 addresses are not supported');
  if (family === 'ipv6' && !looksV6) return SYNTAX_ERROR;
  if (!looksV4 && !looksV6) return SYNTAX_ERROR;
  const bytes = ipToBytes(addr);
  if (!bytes) return errorReply(Code.SyntaxError, looksV4 ? `Invalid IPv4 address ${addr}` : `Invalid IPv6 address ${addr}`);
  const max = bytes.length * 8;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return SYNTAX_ERROR;
  const length = len === undefined ? max : Number(len);
  if (length > max) return errorReply(Code.SyntaxError, 'Invalid prefix length');
  return { address: bytes, length };
}

function parseRouteQuery(args: Token[], backend: BirdBackend, protocols: BirdProtocol[]): RouteQuery | Reply {
  const q: RouteQuery = { all: false, count: false, stats: false, primary: false, filtered: false };
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if (t.quoted) return SYNTAX_ERROR;
    const next = () => args[++i];
    switch (t.text) {
      case 'all':
      case 'count':
      case 'stats':
      case 'primary':
      case 'filtered':
        q[t.text] = true;
        continue;
      case 'table': {
        const name = next();
        if (!name || name.quoted || !SYMBOL.test(name.text)) return SYNTAX_ERROR;
        if (name.text !== 'master') return errorReply(Code.SyntaxError, `${name.text} is not a table`);
        continue;
      }
      case 'protocol': {
        const name = next();
        if (!name || name.quoted || !SYMBOL.test(name.text)) return SYNTAX_ERROR;
        if (!protocols.some((p) => p.name === name.text)) return errorReply(Code.SyntaxError, `${name.text} is not a protocol`);
        q.protocol = name.text;
        continue;
      }
      case 'for': {
        const arg = next();
        if (!arg || arg.quoted) return SYNTAX_ERROR;
        const net = parseNet(arg.text, backend.family);
        if ('final' in net) return net;
        q.covering = net;
        continue;
      }
      default: {
        const net = parseNet(t.text, backend.family);
        if ('final' in net) return net;
        q.exact = net;
      }
    }
  }
  return q;
}

function networksOf(routes: BirdRoute[]): Map<string, BirdRoute[]> {
  const nets = new Map<string, BirdRoute[]>();
  for (const r of routes) {
    const list = nets.get(r.prefix);
    if (list) list.push(r);
    else nets.set(r.prefix, [r]);
  }
  return nets;
}

function prefixLength(prefix: string): number {
  return Number(prefix.split('/')[1]);
}

/** rt_show: one network (exact or longest match), or the whole table. */
function pickNetworks(q: RouteQuery, nets: Map<string, BirdRoute[]>): BirdRoute[][] | undefined {
  if (q.exact) {
    const { address, length } = q.exact;
    for (const list of nets.values()) {
      const r = list[0]!;
      if (prefixLength(r.prefix) === length && inPrefix(address, paddedAddress(r.address, address.length), length)) return [list];
    }
    return undefined;
  }
  if (q.covering) {
    const { address, length } = q.covering;
    let best: BirdRoute[] | undefined;
    for (const list of nets.values()) {
      const r = list[0]!;
      const len = prefixLength(r.prefix);
      if (len <= length && inPrefix(address, paddedAddress(r.address, address.length), len) && (!best || len > prefixLength(best[0]!.prefix))) best = list;
    }
    return best ? [best] : undefined;
  }
  return [...nets.values()];
}

function paddedAddress(a: Uint8Array, size: number): Uint8Array {
  if (a.length === size) return a;
  const out = new Uint8Array(size);
  out.set(a.subarray(0, size));
  return out;
}

function showRoute(args: Token[], backend: BirdBackend): Reply {
  const snap = backend.snapshot();
  const q = parseRouteQuery(args, backend, snap.protocols);
  if ('final' in q) return q;
  const picked = pickNetworks(q, networksOf(snap.routes));
  if (!picked) return errorReply(Code.NetworkNotInTable, 'Network not in table');
  const walked = picked.flat();
  const shown = q.filtered ? [] : walked.filter((r) => (!q.protocol || r.proto === q.protocol) && (!q.primary || r.primary));
  if (q.count) return routeCountReply(shown.length, walked.length, picked.length);
  const body = routesReply(shown, q.all, snap.status.now);
  if (!q.stats) return body;
  const count = routeCountReply(shown.length, walked.length, picked.length);
  return reply(count.final, body.lines);
}

// ===== State-changing commands =====
async function configure(args: string[], backend: BirdBackend): Promise<Reply> {
  if (args.length > 1 || (args.length === 1 && args[0] !== 'soft')) return SYNTAX_ERROR;
  if (!backend.configure) return errorReply(Code.AccessDenied, 'Access denied');
  const result = await backend.configure();
  const reading: ReplyLine = { code: Code.ReadingConfig, text: `Reading configuration from ${result.file}` };
  if (result.error !== undefined) return reply({ code: Code.ConfigurationError, text: result.error.replace(/\s*\n\s*/g, '; ') }, [reading]);
  return reply({ code: Code.Reconfigured, text: 'Reconfigured' }, [reading]);
}

const ACTION_REPLIES: Record<ProtocolAction, { done: [number, string]; already: [number, string] }> = {
  disable: { done: [Code.Disabled, 'disabled'], already: [Code.AlreadyDisabled, 'already disabled'] },
  enable: { done: [Code.Enabled, 'enabled'], already: [Code.AlreadyEnabled, 'already enabled'] },
  restart: { done: [Code.Restarted, 'restarted'], already: [Code.Restarted, 'restarted'] },
};

async function protocolCommand(action: ProtocolAction, args: Token[], backend: BirdBackend): Promise<Reply> {
  if (args.length !== 1) return SYNTAX_ERROR;
  const protocols = backend.snapshot().protocols;
  const arg = args[0]!;
  const selected = !arg.quoted && arg.text === 'all' ? protocols.filter((p) => p.kind === 'BGP') : selectProtocols(arg, protocols);
  if (!Array.isArray(selected)) return selected;
  // Only BGP sessions can be switched in Tern; kernel sync and originated routes follow the config.
  if (!backend.protocolAction || selected.some((p) => p.kind !== 'BGP')) return errorReply(Code.AccessDenied, 'Access denied');
  const lines: ReplyLine[] = [];
  for (const p of selected) {
    const changed = await backend.protocolAction(action, p.name);
    const [code, text] = changed ? ACTION_REPLIES[action].done : ACTION_REPLIES[action].already;
    lines.push({ code, text: `${p.name}: ${text}` });
  }
  return table(lines);
}
