// SPDX-License-Identifier: Apache-2.0
// The Node flags the Tern DUT runs with: read from the deploy files, so that the benchmark
// measures Tern as it is deployed and cannot drift from it. Calico scenarios (calico-rr, mesh,
// kernel) use calico-node's wrapper (deploy/calico-node/tern, also the container image's);
// the full-table reflector uses the standalone service (deploy/systemd/tern.service).
// TERN_NODE_ARGS (space-separated; empty for Node's defaults) replaces both, to measure others.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../interop/lib/tern.ts';

export type Deployment = 'calico' | 'standalone';

/** The flags a deploy file starts Node with. Throws if the file no longer has them where expected. */
export function deployedNodeFlags(deployment: Deployment, root = REPO_ROOT): string[] {
  if (deployment === 'calico') {
    const file = join(root, 'deploy', 'calico-node', 'tern');
    // exec /usr/local/bin/node ${TERN_NODE_FLAGS-<default flags>} ... (sh: the default when unset)
    const m = /\$\{TERN_NODE_FLAGS-([^}]*)\}/.exec(readFileSync(file, 'utf8'));
    if (!m) throw new Error(`${file}: no \${TERN_NODE_FLAGS-...} default`);
    return split(m[1]!);
  }
  const file = join(root, 'deploy', 'systemd', 'tern.service');
  const m = /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file}: no Environment=NODE_OPTIONS= line`);
  return split(m[1]!.replace(/^"|"$/g, ''));
}

/** The DUT's Node flags for a deployment, or TERN_NODE_ARGS when set. */
export function ternNodeArgs(deployment: Deployment): string[] {
  const override = process.env.TERN_NODE_ARGS;
  return override !== undefined ? split(override) : deployedNodeFlags(deployment);
}

function split(flags: string): string[] {
  return flags.split(/\s+/).filter(Boolean);
}
