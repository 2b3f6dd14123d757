import { readFileSync } from 'node:fs';
import { builtins } from '../config/builtins.js';

const LINUX_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/**
 * The operating system's id of this machine, or `undefined` where there is none: `/etc/machine-id`
 * or `/var/lib/dbus/machine-id` on Linux, IOPlatformUUID on macOS, MachineGuid on Windows. There is no
 * MAC-address fallback. Called once, when a telemetry is created (macOS and Windows need a short
 * command for it), never on the exit path; callers cache the result.
 */
export function readMachineId(platform: NodeJS.Platform = process.platform): string | undefined {
  try {
    if (platform === 'darwin') {
      const out = builtins.childProcess().execFileSync('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
      return /"IOPlatformUUID"\s*=\s*"([^"]+)"/.exec(out)?.[1];
    }
    if (platform === 'win32') {
      const out = builtins.childProcess().execFileSync('reg', ['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid'], {
        encoding: 'utf8',
        timeout: 2000,
        windowsHide: true,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return /MachineGuid\s+REG_SZ\s+(\S+)/.exec(out)?.[1];
    }
    for (const file of LINUX_FILES) {
      try {
        const id = readFileSync(file, 'utf8').trim();
        if (id !== '') return id;
      } catch {
        // Try the next place.
      }
    }
  } catch {
    // No id to be had: the field is left out.
  }
  return undefined;
}
