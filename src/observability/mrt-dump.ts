// SPDX-License-Identifier: Apache-2.0
// MRT (RFC 6396) dumps on demand, written by the daemon to a path the operator gives:
//   `dump rib` — TABLE_DUMP_V2: a PEER_INDEX_TABLE, then one RIB record per prefix holding every
//     candidate path of the Loc-RIB (Adj-RIB-In after import policy, plus local routes), with the
//     RFC 8050 _ADDPATH subtypes for paths that carry a path id;
//   `dump updates start|stop` — one BGP4MP_MESSAGE_AS4 record per UPDATE received (before the
//     RIB), appended as they arrive through a buffered stream; when the stream falls behind,
//     records are dropped and counted rather than slowing any session.
// The reader for both formats is src/util/mrt.ts. No BGP4MP_STATE_CHANGE records, no gzip.
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Daemon, PeerEntry } from '../daemon.ts';
import { encodeAttributes } from '../bgp/messages/attributes/encode.ts';
import { encodeUpdate } from '../bgp/messages/update.ts';
import { AS_TRANS, Afi, AttrFlag, AttrType } from '../bgp/messages/iana.ts';
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import { DEFAULT_CONTEXT, type CodecContext, type DecodedUpdate, type Family, type Nlri, type PathAttribute } from '../bgp/messages/types.ts';
import type { Path, PeerRef } from '../rib/types.ts';
import { registerCommand } from '../control/commands.ts';
import { CommandError } from '../control/server.ts';
import { ipToBytes } from '../util/ip.ts';
import { Bgp4mpSubtype, MrtPeerTypeBit, MrtType, TableDumpV2Subtype } from '../util/mrt.ts';
import { Writer } from '../util/reader.ts';

const WELL_KNOWN = AttrFlag.Transitive;
const OPTIONAL = AttrFlag.Optional;
const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;
const IPV4_LENGTH = 4;
const IPV6_LENGTH = 16;
/** Bytes the update stream may hold before records are dropped. */
const UPDATE_STREAM_LIMIT = 32 * 1024 * 1024;

/** RFC 6396 §2: Timestamp (4) | Type (2) | Subtype (2) | Length (4), then the body. */
export function mrtRecord(timestampSec: number, type: number, subtype: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, timestampSec >>> 0);
  view.setUint16(4, type);
  view.setUint16(6, subtype);
  view.setUint32(8, body.length);
  out.set(body, 12);
  return out;
}

// ===== TABLE_DUMP_V2 =====

export interface MrtPeer {
  bgpId: number;
  /** 4 or 16 octets. */
  address: Uint8Array;
  asn: number;
}

/** RFC 6396 §4.3.1. Tern always writes 4-octet ASNs (Peer Type bit 1). */
export function encodePeerIndexTable(collectorBgpId: number, viewName: string, peers: readonly MrtPeer[]): Uint8Array {
  const name = new TextEncoder().encode(viewName);
  const w = new Writer(32 + peers.length * 25);
  w.u32(collectorBgpId >>> 0).u16(name.length).bytes(name).u16(peers.length);
  for (const p of peers) {
    w.u8(MrtPeerTypeBit.As4 | (p.address.length === IPV6_LENGTH ? MrtPeerTypeBit.Ipv6 : 0));
    w.u32(p.bgpId >>> 0).bytes(p.address).u32(p.asn >>> 0);
  }
  return w.finish();
}

export interface MrtRibEntryInput {
  peerIndex: number;
  originatedTimeSec: number;
  pathId?: number;
  attributes: RouteAttributes;
}

/** RFC 6396 §4.3.2 / RFC 8050 §4: one RIB record body. `addPath` writes each entry's path id. */
export function encodeRibRecord(sequence: number, nlri: Nlri, addPath: boolean, entries: readonly MrtRibEntryInput[]): Uint8Array {
  const w = new Writer(64 + entries.length * 64);
  w.u32(sequence >>> 0).u8(nlri.length).bytes(nlri.address.subarray(0, Math.ceil(nlri.length / 8))).u16(entries.length);
  for (const e of entries) {
    w.u16(e.peerIndex).u32(e.originatedTimeSec >>> 0);
    if (addPath) w.u32((e.pathId ?? 0) >>> 0);
    const lengthAt = w.reserve(2);
    encodeAttributes(w, ribAttributes(e.attributes, nlri.family), RIB_CONTEXT);
    w.setU16(lengthAt, w.length - lengthAt - 2);
  }
  return w.finish();
}

/** RFC 6396 §4.3.4: AS numbers are 4 octets; attributes are written as held, nothing added. */
const RIB_CONTEXT: CodecContext = { ...DEFAULT_CONTEXT, as4: true, maxMessageSize: 65535, peerType: 'ibgp' };

/**
 * The path attributes of one RIB entry, ascending by type code. IPv6 next hops (and IPv4 routes
 * with an IPv6 next hop, RFC 8950) go in an MP_REACH_NLRI that "only [holds] the Next Hop
 * Address Length and Next Hop Address fields" (RFC 6396 §4.3.4).
 */
export function ribAttributes(a: RouteAttributes, family: Family): PathAttribute[] {
  const out: PathAttribute[] = [];
  if (a.origin !== undefined) out.push({ code: AttrType.Origin, kind: 'origin', flags: WELL_KNOWN, origin: a.origin });
  out.push({ code: AttrType.AsPath, kind: 'as-path', flags: WELL_KNOWN, segments: a.asPath, fourOctet: true });
  const nextHopField = family === 'ipv4-unicast' && a.nextHop?.length === IPV4_LENGTH;
  if (nextHopField) out.push({ code: AttrType.NextHop, kind: 'next-hop', flags: WELL_KNOWN, nextHop: a.nextHop! });
  if (a.med !== undefined) out.push({ code: AttrType.MultiExitDisc, kind: 'med', flags: OPTIONAL, med: a.med });
  if (a.localPref !== undefined) out.push({ code: AttrType.LocalPref, kind: 'local-pref', flags: WELL_KNOWN, localPref: a.localPref });
  if (a.atomicAggregate) out.push({ code: AttrType.AtomicAggregate, kind: 'atomic-aggregate', flags: WELL_KNOWN });
  if (a.aggregator) out.push({ code: AttrType.Aggregator, kind: 'aggregator', flags: OPTIONAL_TRANSITIVE, asn: a.aggregator.asn, address: a.aggregator.address, fourOctet: true });
  if (a.communities.length) out.push({ code: AttrType.Communities, kind: 'communities', flags: OPTIONAL_TRANSITIVE, communities: a.communities });
  if (a.originatorId !== undefined) out.push({ code: AttrType.OriginatorId, kind: 'originator-id', flags: OPTIONAL, originatorId: a.originatorId });
  if (a.clusterList.length) out.push({ code: AttrType.ClusterList, kind: 'cluster-list', flags: OPTIONAL, clusterIds: a.clusterList });
  if (a.nextHop && !nextHopField) out.push({ code: AttrType.MpReachNlri, kind: 'unknown', flags: OPTIONAL, value: abbreviatedNextHop(a) });
  if (a.extendedCommunities.length) out.push({ code: AttrType.ExtendedCommunities, kind: 'extended-communities', flags: OPTIONAL_TRANSITIVE, communities: a.extendedCommunities });
  if (a.largeCommunities.length) out.push({ code: AttrType.LargeCommunity, kind: 'large-communities', flags: OPTIONAL_TRANSITIVE, communities: a.largeCommunities });
  out.push(...a.unknown);
  return out.sort((x, y) => x.code - y.code);
}

/** Next Hop Address Length and Next Hop Address: global, then link-local if any (RFC 2545 §3). */
function abbreviatedNextHop(a: RouteAttributes): Uint8Array {
  const global = a.nextHop!;
  const linkLocal = a.linkLocalNextHop && global.length === IPV6_LENGTH ? a.linkLocalNextHop.subarray(0, IPV6_LENGTH) : undefined;
  const length = global.length + (linkLocal?.length ?? 0);
  const out = new Uint8Array(1 + length);
  out[0] = length;
  out.set(global, 1);
  if (linkLocal) out.set(linkLocal, 1 + global.length);
  return out;
}

export interface RibDumpSummary {
  peers: number;
  prefixes: number;
  records: number;
  paths: number;
  bytes: number;
}

/**
 * The Loc-RIB as a TABLE_DUMP_V2 dump. Peer index 0 is this router itself (local routes:
 * originated, kernel, connected), then every peer that contributed a path.
 */
export function buildRibDump(daemon: Daemon, now = Date.now()): { data: Uint8Array; summary: RibDumpSummary } {
  const { config, rib } = daemon;
  const timestamp = Math.floor(now / 1000);
  const peers: MrtPeer[] = [{ bgpId: config.routerIdNum, address: new Uint8Array(IPV4_LENGTH), asn: config.asn }];
  const indexOf = new Map<number, number>();
  const peerIndex = (ref: PeerRef | undefined): number => {
    if (!ref) return 0;
    let i = indexOf.get(ref.id);
    if (i === undefined) {
      i = peers.length;
      indexOf.set(ref.id, i);
      const bgpId = ref.routerId || (daemon.peerByName(ref.name)?.session.info.remoteOpen?.bgpId ?? 0);
      peers.push({ bgpId, address: ref.address, asn: ref.asn });
    }
    return i;
  };
  const records: Uint8Array[] = [];
  let sequence = 0;
  let paths = 0;
  let prefixes = 0;
  for (const dest of rib.loc.values()) {
    if (dest.pathCount === 0) continue;
    prefixes++;
    const plain = dest.paths.filter((p) => p.nlri.pathId === undefined);
    const withIds = dest.paths.filter((p) => p.nlri.pathId !== undefined);
    for (const [group, addPath] of [[plain, false], [withIds, true]] as const) {
      if (group.length === 0) continue;
      const entries = group.map((p: Path): MrtRibEntryInput => ({ peerIndex: peerIndex(p.peer), originatedTimeSec: Math.floor(p.receivedAt / 1000), pathId: p.nlri.pathId, attributes: p.attrs }));
      const subtype = ribSubtype(dest.family, addPath);
      records.push(mrtRecord(timestamp, MrtType.TableDumpV2, subtype, encodeRibRecord(sequence++, dest.nlri, addPath, entries)));
      paths += group.length;
    }
  }
  const index = mrtRecord(timestamp, MrtType.TableDumpV2, TableDumpV2Subtype.PeerIndexTable, encodePeerIndexTable(config.routerIdNum, 'tern', peers));
  const data = concat([index, ...records]);
  return { data, summary: { peers: peers.length, prefixes, records: records.length, paths, bytes: data.length } };
}

function ribSubtype(family: Family, addPath: boolean): number {
  if (family === 'ipv4-unicast') return addPath ? TableDumpV2Subtype.RibIpv4UnicastAddPath : TableDumpV2Subtype.RibIpv4Unicast;
  return addPath ? TableDumpV2Subtype.RibIpv6UnicastAddPath : TableDumpV2Subtype.RibIpv6Unicast;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ===== BGP4MP updates =====

/**
 * RFC 6396 §4.4.3 BGP4MP_MESSAGE_AS4 (RFC 8050 §3 _ADDPATH when the UPDATE's family uses path
 * ids): Peer AS (4) | Local AS (4) | Interface Index (2) | AFI (2) | Peer IP | Local IP | message.
 * Readers (bgpdump among them) decode the AS_PATH inside an _AS4 record with 4-octet ASNs, so a
 * session without RFC 6793 is written as BGP4MP_MESSAGE (§4.4.2), 2-octet ASNs, AS_TRANS above.
 */
export function bgp4mpMessageRecord(
  timestampSec: number,
  peer: { asn: number; address: Uint8Array },
  local: { asn: number; address?: Uint8Array },
  message: Uint8Array,
  opts: { as4: boolean; addPath: boolean },
): Uint8Array {
  const ipv6 = peer.address.length === IPV6_LENGTH;
  const localAddress = local.address?.length === peer.address.length ? local.address : new Uint8Array(peer.address.length);
  const w = new Writer(64 + message.length);
  if (opts.as4) w.u32(peer.asn >>> 0).u32(local.asn >>> 0);
  else w.u16(peer.asn > 0xffff ? AS_TRANS : peer.asn).u16(local.asn > 0xffff ? AS_TRANS : local.asn);
  w.u16(0).u16(ipv6 ? Afi.Ipv6 : Afi.Ipv4).bytes(peer.address).bytes(localAddress).bytes(message);
  const subtype = opts.as4
    ? opts.addPath ? Bgp4mpSubtype.MessageAs4AddPath : Bgp4mpSubtype.MessageAs4
    : opts.addPath ? Bgp4mpSubtype.MessageAddPath : Bgp4mpSubtype.Message;
  return mrtRecord(timestampSec, MrtType.Bgp4mp, subtype, w.finish());
}

/** The families an UPDATE carries NLRI of (announced or withdrawn). */
function updateFamilies(decoded: DecodedUpdate): Family[] {
  const { message } = decoded;
  const families = new Set<Family>();
  if (message.withdrawn.length || message.nlri.length) families.add('ipv4-unicast');
  for (const a of message.attributes) {
    if (a.kind === 'mp-reach') for (const n of a.nlri) families.add(n.family);
    if (a.kind === 'mp-unreach') for (const n of a.withdrawn) families.add(n.family);
  }
  return [...families];
}

export interface UpdateDumpSummary {
  file: string;
  records: number;
  dropped: number;
  bytes: number;
}

/** Appends a BGP4MP record for every UPDATE the daemon receives, until close(). */
export class UpdateDumper {
  readonly file: string;
  private readonly daemon: Daemon;
  private readonly stream: WriteStream;
  private readonly listener: (entry: PeerEntry, decoded: DecodedUpdate, ctx: CodecContext) => void;
  private summary: UpdateDumpSummary;
  private failed?: Error;

  private constructor(daemon: Daemon, file: string, stream: WriteStream) {
    this.daemon = daemon;
    this.file = file;
    this.stream = stream;
    this.summary = { file, records: 0, dropped: 0, bytes: 0 };
    // Never throws into the daemon's emit: the RIB's own listener must still run.
    this.listener = (entry, decoded, ctx) => {
      try {
        this.onUpdate(entry, decoded, ctx);
      } catch (err) {
        this.summary.dropped++;
        daemon.log.error({ err, file }, 'MRT update dump could not record an UPDATE');
      }
    };
    stream.on('error', (err) => {
      this.failed = err;
      daemon.log.error({ file, err: err.message }, 'MRT update dump failed');
    });
    daemon.events.on('update', this.listener);
  }

  /** Opens (appends to) `file`; rejects when it cannot be opened. */
  static open(daemon: Daemon, file: string): Promise<UpdateDumper> {
    return new Promise((resolve, reject) => {
      const stream = createWriteStream(file, { flags: 'a' });
      stream.once('error', reject);
      stream.once('open', () => {
        stream.off('error', reject);
        resolve(new UpdateDumper(daemon, file, stream));
      });
    });
  }

  private onUpdate(entry: PeerEntry, decoded: DecodedUpdate, ctx: CodecContext): void {
    if (this.failed) return;
    // Re-encoded with the receive context: byte-identical to the UPDATE as it arrived.
    const message = encodeUpdate(decoded.message, { ...ctx, addPathSend: ctx.addPathReceive });
    const addPath = updateFamilies(decoded).some((f) => ctx.addPathReceive.has(f));
    const peer = { asn: entry.config.asn, address: entry.ref.address };
    const localText = entry.session.localAddress;
    const local = { asn: this.daemon.config.asn, address: localText ? ipToBytes(localText) : undefined };
    const record = bgp4mpMessageRecord(Math.floor(Date.now() / 1000), peer, local, message, { as4: ctx.as4, addPath });
    if (this.stream.writableLength + record.length > UPDATE_STREAM_LIMIT) {
      this.summary.dropped++;
      return;
    }
    this.stream.write(record);
    this.summary.records++;
    this.summary.bytes += record.length;
  }

  async close(): Promise<UpdateDumpSummary> {
    this.daemon.events.off('update', this.listener);
    await new Promise<void>((resolve) => this.stream.end(resolve));
    return { ...this.summary };
  }
}

// ===== Control commands =====

const updateDumps = new WeakMap<Daemon, UpdateDumper>();

function requireAbsolutePath(value: unknown): string {
  if (typeof value !== 'string' || !isAbsolute(value)) throw new CommandError(`"file" must be an absolute path (got ${JSON.stringify(value)})`);
  return value;
}

/** Registers `dump rib`, `dump updates start` and `dump updates stop` (idempotent). */
export function registerMrtDumpCommands(): void {
  registerCommand('dump rib', async (daemon, args) => {
    const file = requireAbsolutePath(args.file);
    const { data, summary } = buildRibDump(daemon);
    // Written beside the target, then renamed: a reader never sees half a dump.
    const partial = `${file}.partial-${process.pid}`;
    try {
      await writeFile(partial, data);
      await rename(partial, file);
    } catch (err) {
      throw new CommandError(`cannot write ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { file, ...summary };
  });
  registerCommand('dump updates start', async (daemon, args) => {
    const file = requireAbsolutePath(args.file);
    const running = updateDumps.get(daemon);
    if (running) throw new CommandError(`an update dump is already running to ${running.file} (stop it first)`);
    let dumper: UpdateDumper;
    try {
      dumper = await UpdateDumper.open(daemon, file);
    } catch (err) {
      throw new CommandError(`cannot open ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    updateDumps.set(daemon, dumper);
    return { file, started: true };
  });
  registerCommand('dump updates stop', async (daemon) => {
    const summary = await stopUpdateDump(daemon);
    if (!summary) throw new CommandError('no update dump is running');
    return summary;
  });
}

/** Ends the daemon's update dump, if one runs (also on daemon shutdown). */
export async function stopUpdateDump(daemon: Daemon): Promise<UpdateDumpSummary | undefined> {
  const dumper = updateDumps.get(daemon);
  if (!dumper) return undefined;
  updateDumps.delete(daemon);
  return dumper.close();
}
