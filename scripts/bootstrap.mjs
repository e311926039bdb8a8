#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// First-run setup for a fresh clone, with no dependencies of its own: installs npm packages when
// node_modules is missing or older than package.json, builds the native addon when it is missing or
// older than its C source, then compiles src/ to dist/ when any source is newer than the build.
// `npm start` and `npm test` call it, so a fresh clone needs nothing else.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function newestIn(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function run(cmd, args) {
  process.stderr.write(`bootstrap: ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

const marker = join(root, 'node_modules', '.package-lock.json');
if (mtime(marker) < mtime(join(root, 'package.json')) || !existsSync(join(root, 'node_modules', 'typescript'))) {
  const lock = existsSync(join(root, 'package-lock.json'));
  run(npm, [lock ? 'ci' : 'install', '--no-audit', '--no-fund']);
}

// The native addon (netlink, TCP MD5/GTSM sockets): rebuilt when missing or older than its C source.
const addon = join(root, 'build', 'Release', 'tern_native.node');
if (mtime(addon) < Math.max(mtime(join(root, 'src', 'native', 'tern_native.c')), mtime(join(root, 'binding.gyp')))) {
  run(process.execPath, [join(root, 'scripts', 'build-native.mjs')]);
}

const built = join(root, 'dist', 'main.js');
if (mtime(built) < Math.max(newestIn(join(root, 'src')), mtime(join(root, 'tsconfig.json')))) {
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
}
