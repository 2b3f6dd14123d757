import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { collectorRoot } from './helpers.js';

/** The `tallyho-collector` command running in its own process. */
export interface CollectorProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it wrote to standard output and error so far. */
  output(): string;
}

/** Starts the built command and resolves once it says where it listens. */
export function startCollectorProcess(args: readonly string[]): Promise<CollectorProcess> {
  const child = spawn(process.execPath, [join(collectorRoot, 'dist/cli.js'), '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test that fails half-way must not leave its collector running: it ends with the test process.
  const reap = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', reap);
  child.once('exit', () => process.removeListener('exit', reap));
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        if (!line.includes('tallyho-collector listening')) continue;
        const { url } = JSON.parse(line) as { url: string };
        resolve({ child, url, output: () => output });
        return;
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code, signal) => reject(new Error(`the collector exited (${code ?? signal}) before listening:\n${output}`)));
    child.on('error', reject);
  });
}

/** Sends a signal and resolves with how the process ended. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill(signal);
  const [code, sig] = await exited;
  return { code, signal: sig };
}
