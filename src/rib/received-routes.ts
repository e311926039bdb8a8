// SPDX-License-Identifier: Apache-2.0
// A plain store of the routes each peer has sent (an Adj-RIB-In without policy), per peer and
// family, keyed by wire-built prefix keys. Applies RFC 7606 verdicts: treat-as-withdraw removes
// the UPDATE's prefixes; attribute-discard keeps the route without the discarded attributes
// (routeAttributes already leaves them out). All NLRI of one UPDATE share one attributes object.
// It does not select best paths: the decision process is the RIB issue's work.
import type { CodecContext, DecodedUpdate, Family, Nlri } from '../bgp/messages/types.ts';
import { routeAttributes, type RouteAttributes } from '../bgp/messages/route-view.ts';
import { prefixKey } from './prefix-key.ts';

export interface StoredRoute {
  peer: string;
  nlri: Nlri;
  attributes: RouteAttributes;
  receivedAt: number;
}

export interface ApplyResult {
  announced: number;
  withdrawn: number;
  endOfRib?: Family;
}

type FamilyTable = Map<string, StoredRoute>;

export class ReceivedRoutes {
  private readonly byPeer = new Map<string, Map<Family, FamilyTable>>();

  apply(peer: string, decoded: DecodedUpdate, ctx: CodecContext, now: number): ApplyResult {
    const { message, action } = decoded;
    const result: ApplyResult = { announced: 0, withdrawn: 0 };
    const withdrawals: Nlri[] = [...message.withdrawn];
    const announcements = new Map<Family, Nlri[]>();
    if (message.nlri.length) announcements.set('ipv4-unicast', message.nlri);
    for (const attr of message.attributes) {
      if (attr.kind === 'mp-unreach') withdrawals.push(...attr.withdrawn);
      else if (attr.kind === 'mp-reach' && attr.nlri.length) {
        const family = attr.nlri[0]!.family;
        announcements.set(family, [...(announcements.get(family) ?? []), ...attr.nlri]);
      }
    }
    for (const n of withdrawals) result.withdrawn += this.remove(peer, n);
    for (const [family, nlri] of announcements) {
      // RFC 7606 §2: "treat-as-withdraw" — the UPDATE's NLRI are handled as if withdrawn.
      if (action === 'treat-as-withdraw' || action === 'afi-safi-disable') {
        for (const n of nlri) result.withdrawn += this.remove(peer, n);
        continue;
      }
      const attributes = routeAttributes(message, family, ctx);
      const table = this.table(peer, family);
      for (const n of nlri) {
        table.set(prefixKey(n), { peer, nlri: n, attributes, receivedAt: now });
        result.announced++;
      }
    }
    return result;
  }

  /** Forget everything a peer sent (its session went down). Returns how many routes went. */
  dropPeer(peer: string): number {
    const tables = this.byPeer.get(peer);
    if (!tables) return 0;
    let n = 0;
    for (const t of tables.values()) n += t.size;
    this.byPeer.delete(peer);
    return n;
  }

  count(peer: string, family?: Family): number {
    const tables = this.byPeer.get(peer);
    if (!tables) return 0;
    if (family) return tables.get(family)?.size ?? 0;
    let n = 0;
    for (const t of tables.values()) n += t.size;
    return n;
  }

  *routes(filter: { peer?: string; family?: Family } = {}): Generator<StoredRoute> {
    for (const [peer, tables] of this.byPeer) {
      if (filter.peer !== undefined && peer !== filter.peer) continue;
      for (const [family, table] of tables) {
        if (filter.family !== undefined && family !== filter.family) continue;
        yield* table.values();
      }
    }
  }

  private table(peer: string, family: Family): FamilyTable {
    let tables = this.byPeer.get(peer);
    if (!tables) this.byPeer.set(peer, (tables = new Map()));
    let table = tables.get(family);
    if (!table) tables.set(family, (table = new Map()));
    return table;
  }

  private remove(peer: string, n: Nlri): number {
    return this.byPeer.get(peer)?.get(n.family)?.delete(prefixKey(n)) ? 1 : 0;
  }
}
