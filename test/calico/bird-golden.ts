// SPDX-License-Identifier: Apache-2.0
// A reader for the parts of confd's golden BIRD configs the conformance test compares:
// router id, listen bgp, the template's local as, each `protocol bgp` block (neighbor, port,
// as, local as, source address, ttl security / multihop, passive, graceful restart time,
// keepalive time, rr client / rr cluster id, password, next hop keep|self, allow local as,
// and the inline import/export filter bodies), and bird_aggr.cfg's static routes.

export interface GoldenPeer {
  name: string;
  family: 4 | 6;
  address: string;
  port: number | null;
  asn: number;
  localAsn: number | null;
  sourceAddress: string | null;
  ttlSecurity: number | null;
  multihop: boolean;
  passive: boolean;
  gracefulRestartTime: number | null;
  keepaliveTime: number | null;
  routeReflectorClient: boolean;
  clusterId: string | null;
  password: string | null;
  nextHop: 'self' | 'keep' | 'auto';
  allowLocalAs: number | null;
  importFilter: string;
  exportFilter: string;
}

export interface GoldenFamily {
  routerId: string | null;
  listenAddress: string | null;
  listenPort: number | null;
  templateLocalAs: number | null;
  disabled: boolean;
  peers: GoldenPeer[];
  statics: { prefix: string; via: string | null }[];
  /** Full text of bird*.cfg + _aggr + _ipam, for the filter interpreter. */
  texts: string[];
}

/** The text between the `{` at or after `from` and its matching `}`, and the index after it. */
export function braced(text: string, from: number): { body: string; end: number } {
  const open = text.indexOf('{', from);
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return { body: text.slice(open + 1, i), end: i + 1 };
  }
  throw new Error('unbalanced braces');
}

function num(m: RegExpExecArray | null): number | null {
  return m ? Number(m[1]) : null;
}

function parsePeer(name: string, block: string, family: 4 | 6): GoldenPeer {
  const imp = block.indexOf('import filter');
  const exp = block.indexOf('export filter');
  const importFilter = imp >= 0 ? braced(block, imp).body : '';
  const exportFilter = exp >= 0 ? braced(block, exp).body : '';
  // Settings live outside the filter bodies.
  let rest = block;
  for (const f of [importFilter, exportFilter]) if (f) rest = rest.replace(f, '');
  const neighbor = /neighbor\s+(\S+?)(?:\s+port\s+(\d+))?\s+as\s+(\d+);/.exec(rest);
  if (!neighbor) throw new Error(`${name}: no neighbor line`);
  const ttlOn = /ttl security on;/.test(rest);
  const multihop = /multihop(?:\s+(\d+))?;/.exec(rest);
  return {
    name,
    family,
    address: neighbor[1]!,
    port: neighbor[2] ? Number(neighbor[2]) : null,
    asn: Number(neighbor[3]),
    localAsn: num(/local as\s+(\d+);/.exec(rest)),
    sourceAddress: /source address\s+(\S+);/.exec(rest)?.[1] ?? null,
    ttlSecurity: ttlOn ? num(multihop) : null,
    multihop: multihop !== null,
    passive: /passive on;/.test(rest),
    gracefulRestartTime: num(/graceful restart time\s+(\d+);/.exec(rest)),
    keepaliveTime: num(/keepalive time\s+(\d+);/.exec(rest)),
    routeReflectorClient: /rr client;/.test(rest),
    clusterId: /rr cluster id\s+(\S+);/.exec(rest)?.[1] ?? null,
    password: /password\s+"([^"]*)";/.exec(rest)?.[1] ?? null,
    nextHop: /next hop keep;/.test(rest) ? 'keep' : /next hop self;/.test(rest) ? 'self' : 'auto',
    allowLocalAs: num(/allow local as\s+(\d+);/.exec(rest)),
    importFilter,
    exportFilter,
  };
}

export function parseGoldenFamily(main: string, aggr: string, ipam: string, family: 4 | 6): GoldenFamily {
  const peers: GoldenPeer[] = [];
  const re = /protocol bgp (\S+) from bgp_template/g;
  for (let m = re.exec(main); m; m = re.exec(main)) peers.push(parsePeer(m[1]!, braced(main, m.index).body, family));
  const listen = /listen bgp(?:\s+address\s+(\S+?))?(?:\s+port\s+(\d+))?;/.exec(main);
  const template = /template bgp bgp_template/.exec(main);
  const templateBody = template ? braced(main, template.index).body : '';
  const statics: { prefix: string; via: string | null }[] = [];
  const st = /template static static_template/.exec(aggr);
  if (st) {
    for (const line of braced(aggr, st.index).body.split('\n')) {
      const r = /^\s*route\s+(\S+)\s+(blackhole|via\s+(\S+));/.exec(line);
      if (r) statics.push({ prefix: r[1]!, via: r[3] ?? null });
    }
  }
  return {
    routerId: /router id\s+(\S+);/.exec(main)?.[1] ?? null,
    listenAddress: listen?.[1] ?? null,
    listenPort: listen?.[2] ? Number(listen[2]) : null,
    templateLocalAs: num(/local as\s+(\d+);/.exec(templateBody)),
    disabled: /# IPv[46] disabled on this node\./.test(main),
    peers,
    statics,
    texts: [main, aggr, ipam],
  };
}
