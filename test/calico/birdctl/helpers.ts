// SPDX-License-Identifier: Apache-2.0
// Shared by the birdctl tests: the captured BIRD 1.6.8 transcripts, the normalisation applied
// before comparing (clock times and dates, the running hold/keepalive countdowns, the version
// string), and a backend over a fixed snapshot.
import { readFileSync } from 'node:fs';
import type { BirdBackend } from '../../../src/calico/birdctl/commands.ts';
import type { BirdSnapshot } from '../../../src/calico/birdctl/model.ts';

export interface Transcript {
  hello: string;
  replies: Record<string, string[]>;
}

export function loadTranscript(name: string): Transcript {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Transcript;
}

/** Replaces what differs between two runs of the same state: times, timer countdowns, version. */
export function normalise(line: string): string {
  return line
    .replace(/\b\d{4}-\d{2}-\d{2}\b/g, 'YYYY-MM-DD')
    .replace(/\b\d{2}:\d{2}:\d{2}\b/g, 'HH:MM:SS')
    .replace(/(Hold timer: {7}|Keepalive timer: {2}|Wait timer is )\d+\//, '$1N/')
    .replace(/BIRD (v0\.3\.3\+birdv)?1\.6\.8/, 'BIRD VERSION');
}

export function backendOf(snapshot: BirdSnapshot, extra: Partial<BirdBackend> = {}): BirdBackend {
  return { family: snapshot.family, snapshot: () => snapshot, memory: () => [], ...extra };
}

/** Splits framed output into lines without the trailing newline. */
export function lines(framed: string): string[] {
  return framed.split('\n').slice(0, -1);
}
