#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Builds the project's N-API addon (src/native/tern_native.c -> build/Release/tern_native.node) with
// npm's bundled node-gyp, fully offline: the Node headers come from this Node's own install
// (--nodedir), never from the network and never from the user's npm config. Exits non-zero with a
// message saying what is missing when the build cannot run. `npm install` / `npm ci` call it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function fail(message) {
  process.stderr.write(`build-native: ${message}\n`);
  process.exit(1);
}

if (process.platform !== 'linux') fail(`the addon is Linux-only (netlink, TCP_MD5SIG); this is ${process.platform}`);

// The headers shipped with the running Node: <prefix>/include/node. Distro packages put node at
// /usr/bin/node, so both rules usually agree; /usr is the fallback for odd layouts.
function nodeDir() {
  const prefix = resolve(process.execPath, '../..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  if (existsSync('/usr/include/node/node_api.h')) return '/usr';
  fail(`no Node headers: neither ${prefix}/include/node/node_api.h nor /usr/include/node/node_api.h exists ` +
    '(install the Node development headers, e.g. Debian `libnode-dev` or the official tarball)');
}

// npm's bundled node-gyp, next to this node; else whatever `npx` finds (still offline: --no-install).
function nodeGypCommand() {
  const candidates = [
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    join(dirname(process.execPath), 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  const npmCli = process.env.npm_execpath; // set when run by npm: <npm>/bin/npm-cli.js
  if (npmCli) candidates.unshift(join(dirname(npmCli), '../node_modules/node-gyp/bin/node-gyp.js'));
  const script = candidates.find((p) => existsSync(p));
  if (script) return [process.execPath, [script]];
  return ['npx', ['--no-install', 'node-gyp']];
}

const nodedir = nodeDir();
const [cmd, prefixArgs] = nodeGypCommand();
const args = [...prefixArgs, 'rebuild', `--nodedir=${nodedir}`, '--release'];
const started = Date.now();
process.stderr.write(`build-native: ${cmd} ${args.join(' ')}\n`);
const result = spawnSync(cmd, args, {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  // node-gyp must not read a stale nodedir/devdir from the environment npm passes down.
  env: { ...process.env, npm_config_nodedir: nodedir },
});
if (result.error) fail(`could not run node-gyp (${result.error.message}); is npm installed alongside node?`);
if (result.status !== 0) fail(`node-gyp failed with status ${result.status}; a C compiler, make and python3 are required`);
if (!existsSync(join(root, 'build', 'Release', 'tern_native.node'))) fail('node-gyp succeeded but build/Release/tern_native.node is missing');
process.stderr.write(`build-native: built build/Release/tern_native.node in ${Date.now() - started} ms\n`);
