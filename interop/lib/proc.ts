// SPDX-License-Identifier: Apache-2.0
// Process handling for the interop lab: run a command with a deadline, start a daemon (optionally
// inside a network namespace via `ip netns exec`) with its output in a log file, stop it with
// SIGTERM then SIGKILL. Every daemon started here is remembered so an exit hook can kill it even
// when a test crashes. It does not daemonize anything: all daemons run in the foreground as our
// children, so their pid is known and nothing outlives the test run.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec NS ...`). */
  netns?: string;
  timeoutMs?: number;
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean;
}

function withNetns(netns: string | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  return netns === undefined ? [cmd, [...args]] : ['ip', ['netns', 'exec', netns, cmd, ...args]];
}

/** Runs a command to completion; it is killed (SIGKILL) when it outlives timeoutMs. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = withNetns(opts.netns, cmd, args);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if ((opts.check ?? true) && code !== 0) {
        const why = signal === 'SIGKILL' ? `killed after ${timeoutMs} ms` : `exit ${code ?? signal}`;
        reject(new Error(`${[file, ...argv].join(' ')}: ${why}: ${(stderr || stdout).trim().slice(0, 500)}`));
      } else resolve(result);
    });
  });
}

export interface DaemonProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** The network namespace it runs in, if any. */
  readonly netns: string | undefined;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string | null>;
  isRunning(): boolean;
}

const live = new Set<DaemonProcess>();

/** Starts a foreground daemon; stdout and stderr are appended to logFile. */
export function startDaemon(name: string, cmd: string, args: readonly string[], logFile: string, netns?: string): DaemonProcess {
  const [file, argv] = withNetns(netns, cmd, args);
  const fd = openSync(logFile, 'a');
  const child = spawn(file, argv, { stdio: ['ignore', fd, fd], detached: false });
  closeSync(fd);
  let running = true;
  const exited = new Promise<number | string | null>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      live.delete(proc);
      resolve(code ?? signal);
    });
    child.on('error', () => {
      running = false;
      live.delete(proc);
      resolve(null);
    });
  });
  const proc: DaemonProcess = { name, logFile, child, netns, exited, isRunning: () => running };
  live.add(proc);
  return proc;
}

/** SIGTERM (or the given signal), then SIGKILL after graceMs; resolves with the exit code or signal once gone. */
export async function stopDaemon(proc: DaemonProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<number | string | null> {
  if (!proc.isRunning()) return proc.exited;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const status = await proc.exited;
  clearTimeout(timer);
  return status;
}

/** Synchronous last-resort kill of the daemons still running in these namespaces (exit hooks cannot await). */
export function killDaemonsSync(namespaces: ReadonlySet<string>): void {
  for (const proc of [...live]) {
    if (proc.netns === undefined || !namespaces.has(proc.netns)) continue;
    try {
      proc.child.kill('SIGKILL');
    } catch {
      // already gone
    }
    live.delete(proc);
  }
}

/** Synchronous command for cleanup paths; never throws. */
export function runSyncQuiet(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).toString();
  } catch {
    return '';
  }
}

/** The last `lines` lines of a log file (only those containing `only`, if given), for failure messages. */
export function tail(file: string, lines = 30, only?: string): string {
  if (!existsSync(file)) return `(no ${file})`;
  const all = readFileSync(file, 'utf8').split('\n');
  return (only === undefined ? all : all.filter((l) => l.includes(only))).slice(-lines).join('\n');
}

/** Absolute path of an executable on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  const out = runSyncQuiet('sh', ['-c', `command -v ${cmd}`]).trim();
  return out === '' ? undefined : out;
}
