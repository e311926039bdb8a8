// SPDX-License-Identifier: Apache-2.0
// The cluster as confd sees it, read out of a snapshot: per-node BGP facts (confd's
// /calico/bgp/v1/host/<node>/... keys), the global and per-node BGPConfiguration, secrets,
// and value parsing (AS numbers, Go durations). No peering logic here (peerings.ts).
import { canonicalIp, networkOf, parseCidr } from './net.ts';
import type { CalicoEnv, CalicoSnapshot, KObj } from './resources.ts';
import { parseSelector, type Labels } from './selector.ts';

export const DEFAULT_ASN = 64512;

export interface NodeInfo {
  name: string;
  labels: Labels;
  /** ip_addr_v4 / ip_addr_v6: canonical address, '' when unset. */
  ipv4: string;
  ipv6: string;
  /** network_v4 / network_v6: the subnet of the address, '' when unset (CrossSubnet). */
  net4: string;
  net6: string;
  /** as_num: undefined when the node has none (the global AS applies). */
  asn: number | undefined;
  /** rr_cluster_id: '' when not a route reflector. */
  rrClusterId: string;
  wireguard4: string;
  wireguard6: string;
}

export type Spec = Record<string, unknown>;

export function specOf(o: KObj | undefined): Spec {
  return (o?.spec ?? {}) as Spec;
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** Calico AS numbers: 64512, "64512" or dotted "1.10" (= 1·65536 + 10). */
export function parseAsn(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  if (typeof v !== 'string' || v === '') return undefined;
  const dotted = /^(\d+)\.(\d+)$/.exec(v);
  if (dotted) return Number(dotted[1]) * 65536 + Number(dotted[2]);
  return /^\d+$/.test(v) && Number(v) <= 0xffffffff ? Number(v) : undefined;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration ("120s", "1m30s", "1.5h") in seconds, rounded as confd does (math.Round). */
export function durationSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return Math.round(v);
  if (typeof v !== 'string' || v === '') return undefined;
  let total = 0;
  let rest = v;
  const re = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

function cidrFacts(text: string): { ip: string; net: string } {
  const c = text ? parseCidr(text) : undefined;
  if (!c) return { ip: '', net: '' };
  const ip = canonicalIp(text.split('/')[0]!) ?? '';
  // confd's network_vN comes from the address's CIDR; a bare address has no subnet.
  return { ip, net: text.includes('/') ? networkOf(c) : '' };
}

export function nodeInfo(o: KObj): NodeInfo {
  const spec = specOf(o);
  const bgp = (spec.bgp ?? {}) as Spec;
  const wg = (spec.wireguard ?? {}) as Spec;
  const v4 = cidrFacts(str(bgp.ipv4Address));
  const v6 = cidrFacts(str(bgp.ipv6Address));
  return {
    name: o.metadata?.name ?? '',
    labels: o.metadata?.labels ?? {},
    ipv4: v4.ip,
    ipv6: v6.ip,
    net4: v4.net,
    net6: v6.net,
    asn: parseAsn(bgp.asNumber),
    rrClusterId: str(bgp.routeReflectorClusterID),
    wireguard4: str(wg.interfaceIPv4Address),
    wireguard6: str(wg.interfaceIPv6Address),
  };
}

/** Everything the compiler derives from the snapshot before looking at peers. */
export class Cluster {
  readonly nodes: NodeInfo[];
  readonly me: NodeInfo;
  readonly global: Spec;
  /** `node.<NODENAME>` BGPConfiguration, if any. */
  readonly perNode: Spec | undefined;
  readonly globalAsn: number;
  readonly globalListenPort: number;
  readonly nodeListenPorts: Map<string, number>;
  readonly warnings: string[] = [];
  readonly snap: CalicoSnapshot;
  readonly env: CalicoEnv;

  constructor(snap: CalicoSnapshot, env: CalicoEnv) {
    this.snap = snap;
    this.env = env;
    this.nodes = snap.nodes.map(nodeInfo).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const me = this.nodes.find((n) => n.name === env.NODENAME);
    if (!me) this.warnings.push(`node ${env.NODENAME} is not in the snapshot: it has no addresses, so no BGP is configured`);
    this.me = me ?? nodeInfo({ metadata: { name: env.NODENAME } });
    const configs = snap.bgpConfigurations;
    this.global = specOf(configs.find((c) => c.metadata?.name === 'default'));
    const mine = configs.find((c) => c.metadata?.name === `node.${env.NODENAME}`);
    this.perNode = mine ? specOf(mine) : undefined;
    this.globalAsn = parseAsn(this.global.asNumber) ?? DEFAULT_ASN;
    this.globalListenPort = Number(this.global.listenPort ?? 0) || 0;
    this.nodeListenPorts = new Map();
    for (const c of configs) {
      const name = c.metadata?.name ?? '';
      const port = Number(specOf(c).listenPort ?? 0) || 0;
      if (name.startsWith('node.') && port !== 0) this.nodeListenPorts.set(name.slice('node.'.length), port);
    }
  }

  /** This node's AS: Node.spec.bgp.asNumber, else the global one. */
  get myAsn(): number {
    return this.me.asn ?? this.globalAsn;
  }

  /** A node's listen port: its node.<name> BGPConfiguration, else the global one; 0 = default. */
  listenPortOf(node: string): number {
    return this.nodeListenPorts.get(node) ?? this.globalListenPort;
  }

  nodesMatching(selector: string): NodeInfo[] {
    let sel;
    try {
      sel = parseSelector(selector);
    } catch (e) {
      this.warnings.push(`bad selector "${selector}": ${(e as Error).message}`);
      return [];
    }
    return this.nodes.filter((n) => sel(n.labels));
  }

  /** A secret value ({name, key}), from data (base64) or stringData; undefined if missing. */
  secret(ref: unknown, what: string): string | undefined {
    const r = (ref ?? {}) as Spec;
    const keyRef = (r.secretKeyRef ?? {}) as Spec;
    const name = str(keyRef.name);
    const key = str(keyRef.key);
    if (!name || !key) return undefined;
    const ns = this.env.NAMESPACE ?? 'kube-system';
    const s = this.snap.secrets.find((x) => x.metadata?.name === name && (x.metadata?.namespace === undefined || x.metadata.namespace === ns));
    const plain = s?.stringData?.[key];
    const encoded = s?.data?.[key];
    const value = plain ?? (encoded !== undefined ? Buffer.from(encoded, 'base64').toString('utf8') : undefined);
    if (value === undefined) this.warnings.push(`${what}: secret ${ns}/${name} has no key "${key}" (no password set)`);
    return value;
  }
}
