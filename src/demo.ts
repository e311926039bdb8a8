// SPDX-License-Identifier: Apache-2.0
// `tern demo` (what `npm start` runs): a few Tern speakers on loopback addresses (127.0.0.x, no
// root, no Kubernetes) in one process, forming an iBGP full mesh like Calico's node-to-node mesh
// (the greater address is passive), each announcing its own pod block. It prints peers and
// routes, read through each speaker's control socket, as they converge.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from './config/index.ts';
import { Daemon } from './daemon.ts';
import { createLogger } from './observability/log.ts';
import { controlRequest } from './control/client.ts';
import { peersTable, routesTable } from './control/table.ts';
import type { PeerView, RouteView } from './control/views.ts';

export interface DemoOptions {
  speakers: number;
  /** 0: stop once converged; otherwise keep running this many seconds. */
  seconds: number;
  port: number;
}

const DEMO_ASN = 64512; // Calico's default AS
const CONVERGENCE_TIMEOUT_MS = 60_000;

function speakerAddress(i: number): string {
  return `127.0.0.${i + 1}`;
}

export function demoConfig(i: number, opts: DemoOptions, dir: string): string {
  const me = speakerAddress(i);
  const peers = [];
  for (let j = 0; j < opts.speakers; j++) {
    if (j === i) continue;
    const them = speakerAddress(j);
    // Calico's mesh rule: of two nodes, the one with the greater IP string waits (passive).
    peers.push({ name: `Mesh_${them.replaceAll('.', '_')}`, address: them, asn: DEMO_ASN, port: opts.port, localAddress: me, passive: me > them, connectRetry: 1, holdTime: 9 });
  }
  return JSON.stringify({
    routerId: me,
    asn: DEMO_ASN,
    listen: { address: me, port: opts.port },
    control: { socket: join(dir, `node${i + 1}.ctl`) },
    peers,
    originate: [{ prefix: `10.244.${i + 1}.0/26` }],
  });
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-demo-'));
  const log = createLogger({ level: 'warn', destination: process.stderr }); // problems only: the tables are the output
  const daemons: Daemon[] = [];
  const out = (s: string) => process.stdout.write(s);
  out(`Tern demo: ${opts.speakers} speakers in AS ${DEMO_ASN} on 127.0.0.1-${opts.speakers}, port ${opts.port}, full iBGP mesh\n\n`);
  try {
    for (let i = 0; i < opts.speakers; i++) {
      const config = parseConfig(demoConfig(i, opts, dir), `demo node${i + 1}`);
      const daemon = new Daemon(config, log.child({ speaker: `node${i + 1}` }));
      daemons.push(daemon);
      await daemon.start();
    }
    const started = Date.now();
    let converged = false;
    let lastSummary = '';
    while (Date.now() - started < CONVERGENCE_TIMEOUT_MS) {
      const status = await snapshot(daemons);
      const summary = status.map((s) => `node${s.index + 1}: ${s.established}/${opts.speakers - 1} established, ${s.learned} routes learned`).join('; ');
      if (summary !== lastSummary) out(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${summary}\n`);
      lastSummary = summary;
      if (status.every((s) => s.established === opts.speakers - 1 && s.learned === opts.speakers - 1)) {
        converged = true;
        break;
      }
      await sleep(250);
    }
    const final = await snapshot(daemons);
    for (const s of final) {
      out(`\n== node${s.index + 1} (${speakerAddress(s.index)}): tern show peers\n${peersTable(s.peers)}`);
      out(`== node${s.index + 1}: tern show routes\n${routesTable(s.routes)}`);
    }
    out(converged ? `\nConverged in ${((Date.now() - started) / 1000).toFixed(1)} s: every speaker has every other speaker's pod block.\n` : '\nDid not converge within 60 s.\n');
    if (opts.seconds > 0) {
      out(`Running for ${opts.seconds} s more (control sockets in ${dir}); Ctrl-C to stop.\n`);
      await Promise.race([sleep(opts.seconds * 1000), new Promise((r) => process.once('SIGINT', r))]);
    }
    return converged ? 0 : 1;
  } finally {
    await Promise.allSettled(daemons.map((d) => d.stop('demo finished')));
    rmSync(dir, { recursive: true, force: true });
  }
}

interface SpeakerSnapshot {
  index: number;
  peers: PeerView[];
  routes: RouteView[];
  /** Routes learned from peers (the table also lists the speaker's own block). */
  learned: number;
  established: number;
}

async function snapshot(daemons: Daemon[]): Promise<SpeakerSnapshot[]> {
  return Promise.all(
    daemons.map(async (d, index) => {
      const peers = (await controlRequest(d.config.control.socket, 'show peers')) as PeerView[];
      const routes = (await controlRequest(d.config.control.socket, 'show routes')) as RouteView[];
      const learned = routes.filter((r) => r.peer !== null).length;
      return { index, peers, routes, learned, established: peers.filter((p) => p.state === 'Established').length };
    }),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
