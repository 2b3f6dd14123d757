import { describe, expect, it } from 'vitest';
import { senderCommand } from '../../src/runtime/sender-command.js';

const deno = (run: string) => ({ permissions: { querySync: ({ name }: { name: string }) => ({ state: name === 'run' ? run : 'granted' }) } });

describe('senderCommand: the sender runs with the host\'s runtime, or not at all', () => {
  it('node and bun run the sender file; deno runs it with exactly the permissions it needs', () => {
    expect(senderCommand('/p/sender.js', 'node', { process: { execPath: '/usr/bin/node', versions: {} } })).toEqual({ command: '/usr/bin/node', args: ['/p/sender.js'] });
    expect(senderCommand('/p/sender.js', 'bun', { process: { execPath: '/x/bun.exe', versions: {} } })).toEqual({ command: '/x/bun.exe', args: ['/p/sender.js'] });
    const denoCommand = senderCommand('/p/sender.js', 'deno', { process: { execPath: '/x/deno' }, Deno: deno('granted') });
    expect(denoCommand).toEqual({
      command: '/x/deno',
      args: ['run', '--no-prompt', '--no-config', '--allow-env', '--allow-read', '--allow-write', '--allow-net', '--allow-sys', '/p/sender.js'],
    });
  });

  it.each([
    ['node', { process: { execPath: '/opt/app/my-cli', versions: {} } }, 'my-cli is not a plain node'],
    ['node', { process: { execPath: '/opt/electron/node', versions: { electron: '30.0.0' } } }, 'node is not a plain node'],
    ['bun', { process: { execPath: '/opt/app/compiled', versions: {} } }, 'compiled is not a plain bun'],
    ['deno', { process: { execPath: '/opt/app/compiled' }, Deno: deno('granted') }, 'compiled is not a plain deno'],
    ['deno', { process: { execPath: '/x/deno' }, Deno: deno('prompt') }, 'Deno was not given --allow-run'],
    ['browser', {}, 'no sender in browser'],
  ] as const)('%s %j: skipped (%s)', (runtime, globals, skip) => {
    expect(senderCommand('/p/sender.js', runtime, globals)).toEqual({ skip });
  });
});
