// SPDX-License-Identifier: Apache-2.0
// The lab's own BIRD 2 processes, identical for every device under test: the feeder (N static
// /32 blackhole routes in a protocol that starts disabled, so sessions come up before any route
// moves), the monitors (import all, export none) and the emulated Calico nodes (one process per
// node, `strict bind`, one /26 each). Logging is warnings only (anchors §5.5 pitfall 7).
import { writeFileSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { startDaemon, stopDaemon, type DaemonProcess } from '../../interop/lib/proc.ts';
import { ASN, DUT_ADDR, type Lab } from './lab.ts';
import { birdBgpState, birdCommand, birdNetworkCount } from './birdctl.ts';

export const BIRD2_BIN = '/usr/sbin/bird';

/** Session options shared by every lab BIRD: quick (re)connects, so a passive DUT is found at once. */
const FAST = 'connect delay time 1; connect retry time 2; error wait time 1, 5; strict bind;';

export class LabBird {
  readonly name: string;
  readonly socket: string;
  readonly proc: DaemonProcess;

  constructor(name: string, socket: string, proc: DaemonProcess) {
    this.name = name;
    this.socket = socket;
    this.proc = proc;
  }

  get pid(): number {
    return this.proc.child.pid ?? -1;
  }

  count(): Promise<number> {
    return birdNetworkCount(this.socket);
  }

  async established(): Promise<boolean> {
    return (await birdBgpState(this.socket, 'dut')) === 'Established';
  }

  async enable(protocol: string): Promise<void> {
    await birdCommand(this.socket, `enable ${protocol}`);
  }

  async disable(protocol: string): Promise<void> {
    await birdCommand(this.socket, `disable ${protocol}`);
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<unknown> {
    return stopDaemon(this.proc, signal, 3_000);
  }
}

function startBird(lab: Lab, ns: string, name: string, config: string): LabBird {
  const dir = lab.dir('birds');
  const conf = join(dir, `${name}.conf`);
  const socket = join(dir, `${name}.ctl`);
  writeFileSync(conf, config);
  const proc = startDaemon(name, BIRD2_BIN, ['-f', '-c', conf, '-s', socket], join(dir, `${name}.log`), ns);
  return new LabBird(name, socket, proc);
}

function session(local: string, importAll: boolean, exportWhat: string): string {
  return [
    'protocol bgp dut {',
    `  local ${local} as ${ASN}; neighbor ${DUT_ADDR} as ${ASN};`,
    `  ${FAST}`,
    `  ipv4 { import ${importAll ? 'all' : 'none'}; export ${exportWhat}; next hop self; };`,
    '}',
  ].join('\n');
}

/** Writes the feeder's include file: `count` /32s from 100.0.0.0, streamed (1M lines ≈ 35 MB). */
export async function writeFeederRoutes(lab: Lab, count: number): Promise<string> {
  const file = join(lab.dir('birds'), `routes-${count}.inc`);
  const out = createWriteStream(file);
  const base = 100 << 24;
  let chunk = '';
  for (let k = 0; k < count; k++) {
    const a = (base + k) >>> 0;
    chunk += `route ${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/32 blackhole;\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return file;
}

export function startFeeder(lab: Lab, address: string, routesFile: string): LabBird {
  return startBird(lab, lab.nodesNs, 'feeder', [
    `router id ${address};`,
    'log stderr { warning, error, fatal, bug };',
    'protocol device { scan time 600; }',
    // `include` must stand on a line of its own.
    `protocol static feed {\n  disabled; ipv4;\n  include "${routesFile}";\n}`,
    session(address, false, 'where proto = "feed"'),
  ].join('\n') + '\n');
}

export function startMonitor(lab: Lab, i: number, address: string): LabBird {
  return startBird(lab, lab.monNs, `mon${i}`, [
    `router id ${address};`,
    'log stderr { warning, error, fatal, bug };',
    'protocol device { scan time 600; }',
    session(address, true, 'none'),
  ].join('\n') + '\n');
}

/** An emulated Calico node: imports everything, exports its own block (initially disabled). */
export function startNode(lab: Lab, i: number, address: string, block: string, enabled: boolean): LabBird {
  return startBird(lab, lab.nodesNs, `n${i}`, [
    `router id ${address};`,
    'log stderr { warning, error, fatal, bug };',
    'protocol device { scan time 600; }',
    `protocol static blk { ${enabled ? '' : 'disabled; '}ipv4; route ${block} blackhole; }`,
    session(address, true, 'where proto = "blk"'),
  ].join('\n') + '\n');
}
