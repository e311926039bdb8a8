// SPDX-License-Identifier: Apache-2.0
// TypeScript mirrors of the Go code in Calico that reads BIRD's control socket, line for line
// from /work/shared/reference/calico-bird.md §5.2/§5.4 (calicoctl commands/node/status.go
// scanBIRDPeers + bgpPeer.unmarshalBIRD, node/pkg/health checkBIRDReady + bird.GRInProgress),
// so the tests can check that Tern's replies satisfy the consumers exactly as they parse.

export interface CalicoPeer {
  peerIP: string;
  peerType: string;
  state: string;
  since: string;
  bgpState: string;
  info: string;
}

const BGP_PEER_REGEX = /^(Global|Node|Mesh)_(.+)$/;
const BGP_TYPE_MAP: Record<string, string> = { Global: 'global', Mesh: 'node-to-node mesh', Node: 'node specific' };
const EXPECTED_HEADINGS = ['name', 'proto', 'table', 'state', 'since', 'info'];

function fields(s: string): string[] {
  return s.split(/\s+/).filter((x) => x !== '');
}

/** bgpPeer.unmarshalBIRD: undefined for rows that are not Calico BGP peers. */
function unmarshalBird(line: string, ipSep: string): CalicoPeer | undefined {
  const columns = fields(line);
  if (columns.length < 6) return undefined;
  if (columns[1] !== 'BGP') return undefined;
  const sm = BGP_PEER_REGEX.exec(columns[0]!);
  if (!sm) return undefined;
  const peerType = BGP_TYPE_MAP[sm[1]!];
  if (!peerType) return undefined;
  return {
    peerIP: sm[2]!.replaceAll('_', ipSep),
    peerType,
    state: columns[3]!,
    since: columns[4]!,
    bgpState: columns[5]!,
    info: columns.length > 6 ? columns.slice(6).join(' ') : '',
  };
}

/** scanBIRDPeers over the lines read after sending `show protocols` (hello first). */
export function scanBirdPeers(lines: string[], ipSep: '.' | ':'): CalicoPeer[] {
  const peers: CalicoPeer[] = [];
  for (const str of lines) {
    if (str.startsWith('0000')) break;
    else if (str.startsWith('0001')) continue;
    else if (str.startsWith('2002')) {
      if (JSON.stringify(fields(str.slice(5))) !== JSON.stringify(EXPECTED_HEADINGS)) throw new Error('unknown BIRD table output format');
    } else if (str.startsWith('1002')) {
      const p = unmarshalBird(str.slice(5), ipSep);
      if (p) peers.push(p);
    } else if (str.startsWith(' ')) {
      const p = unmarshalBird(str.slice(1), ipSep);
      if (p) peers.push(p);
    } else throw new Error('unexpected output line from BIRD');
  }
  return peers;
}

/** bird.GRInProgress over the lines read after sending `show status`. */
export function grInProgress(lines: string[]): boolean {
  for (const str of lines) {
    if (str.startsWith('0013')) break;
    if (str.startsWith('0024')) return true;
  }
  return false;
}

/** checkBIRDReady's decision: undefined when ready, else the error text. */
export function checkBirdReady(peers: CalicoPeer[], withinThreshold: boolean, gr: () => boolean): string | undefined {
  const notEstablished = peers.filter((p) => p.bgpState !== 'Established').map((p) => p.peerIP);
  const established = peers.length - notEstablished.length;
  if (peers.length === 0) return undefined;
  if (withinThreshold) {
    if (notEstablished.length > 0) return `BGP not established with ${notEstablished.join(',')}`;
    if (gr()) return 'graceful restart in progress';
    return undefined;
  }
  if (established > 0) return undefined;
  return `BGP not established with ${notEstablished.join(',')}`;
}
