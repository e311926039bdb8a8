// SPDX-License-Identifier: Apache-2.0
// Long fuzzing run: `npm run fuzz -- --minutes N [--seed S] [--live-share 0.1]`.
// Feeds structurally valid BGP messages with one field mutated, and random bodies, to Tern's
// decoder (in bulk) and to live iBGP/eBGP sessions of a Tern daemon started in this process on
// loopback (reconnecting from a fresh pool address after each reset). Every failing input —
// a decoder exception other than BgpNotificationError, a session that ends without a
// NOTIFICATION or hangs, or a daemon crash — is written to test/fixtures/regress/fuzz/, which
// test/security/regress.test.ts replays. Prints the case counts; exits 1 when anything failed.
import fc from 'fast-check';
import { EBGP, IBGP } from '../test/fixtures/messages/update/build.ts';
import { decodeAsSession, fuzzFrame, saveFuzzFinding } from '../test/helpers/fuzz-corpus.ts';
import { Injector, Lab, liveVerdict } from '../test/helpers/injector.ts';

interface Args {
  minutes: number;
  seed: number;
  liveShare: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { minutes: 1, seed: Date.now() & 0x7fffffff, liveShare: 0.3 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if (flag === '--minutes' && value > 0) args.minutes = value;
    else if (flag === '--seed' && Number.isInteger(value)) args.seed = value;
    else if (flag === '--live-share' && value >= 0 && value <= 1) args.liveShare = value;
    else if (flag === '--help') {
      process.stdout.write('usage: npm run fuzz -- [--minutes N] [--seed S] [--live-share 0..1]\n');
      process.exit(0);
    } else continue;
    i++;
  }
  return args;
}

const counts = { decoder: 0, live: 0, alive: 0, resets: 0, findings: 0 };
const SORTS = ['ibgp', 'ebgp'] as const;

function finding(frame: Uint8Array, what: string, sort: 'ibgp' | 'ebgp'): void {
  counts.findings++;
  const path = saveFuzzFinding(frame, what, sort, false);
  process.stdout.write(`FINDING ${what}\n  saved to ${path}\n`);
}

/** Decoder-only batch: fast, so most of the cases. */
function decoderBatch(seed: number, runs: number): void {
  for (const sort of SORTS) {
    const ctx = sort === 'ibgp' ? IBGP : EBGP;
    for (const { frame, what } of fc.sample(fuzzFrame(sort), { numRuns: runs, seed })) {
      counts.decoder++;
      const r = decodeAsSession(frame, ctx);
      if (r.kind === 'crash') finding(frame, `decoder threw ${String(r.error)} on ${what}`, sort);
    }
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const until = Date.now() + args.minutes * 60_000;
  process.stdout.write(`fuzzing for ${args.minutes} min, seed ${args.seed}\n`);
  // Big pools: each reset makes Tern refuse that address for its back-off (5 s, doubling to 60 s).
  const lab = await Lab.start({ ibgp: 120, ebgp: 120, logLevel: 'silent' });
  let current: { frame: Uint8Array; what: string; sort: 'ibgp' | 'ebgp' } | undefined;
  // A daemon crash in this process: keep the input that caused it, then stop.
  const onCrash = (err: unknown): void => {
    if (current) finding(current.frame, `daemon crashed (${String(err)}) on ${current.what}`, current.sort);
    else process.stdout.write(`daemon crashed outside a live case: ${String(err)}\n`);
    report();
    process.exit(1);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const injectors = { ibgp: new Injector(lab, 'ibgp'), ebgp: new Injector(lab, 'ebgp') };
  let seed = args.seed;
  try {
    while (Date.now() < until) {
      seed++;
      const liveMs = Math.max(200, 2000 * args.liveShare);
      decoderBatch(seed, 500);
      const liveUntil = Math.min(until, Date.now() + liveMs);
      for (const sort of SORTS) {
        const inputs = fc.sample(fuzzFrame(sort), { numRuns: 50, seed: seed * 7 + (sort === 'ibgp' ? 1 : 2) });
        for (const input of inputs) {
          if (Date.now() > liveUntil) break;
          const inj = injectors[sort];
          await inj.ensureConnected();
          current = { ...input, sort };
          counts.live++;
          const verdict = await liveVerdict(inj, input.frame);
          if (!verdict.ok) finding(input.frame, `live ${sort}: ${verdict.detail} on ${input.what}`, sort);
          else if (verdict.outcome === 'alive') counts.alive++;
          else counts.resets++;
          current = undefined;
          if (!verdict.ok) await inj.close();
        }
      }
      process.stdout.write(`  ${new Date().toISOString()} decoder ${counts.decoder}, live ${counts.live} (${counts.resets} resets), findings ${counts.findings}\n`);
    }
  } finally {
    for (const inj of Object.values(injectors)) await inj.close();
    await lab.stop();
  }
  report();
  process.exit(counts.findings > 0 ? 1 : 0);
}

function report(): void {
  process.stdout.write(
    `fuzz: ${counts.decoder + counts.live} cases (decoder ${counts.decoder}, live ${counts.live}: ${counts.alive} survived, ${counts.resets} reset with NOTIFICATION), ${counts.findings} findings\n`,
  );
}

await main();
