import { closeSync, openSync, readSync } from 'node:fs';
import { builtins } from './builtins.js';

// Read through globalThis: this runs at import, and importing tallyho never throws, with or without `process`.
let urandomWorks = globalThis.process?.platform !== 'win32';

/**
 * `n` random bytes from the operating system's generator. Where `/dev/urandom` exists (Linux, macOS,
 * the BSDs) it is read directly: loading `node:crypto` for a few bytes shows in the bench's exit rows
 * (README "Cost"), and the exit path needs random bytes (a report id, a temporary file name) in every program that reports. Elsewhere,
 * or if the read fails, `node:crypto` provides them.
 */
export function randomBytes(n: number): Buffer {
  if (urandomWorks) {
    try {
      const bytes = Buffer.alloc(n);
      const fd = openSync('/dev/urandom', 'r');
      try {
        let filled = 0;
        while (filled < n) {
          const read = readSync(fd, bytes, filled, n - filled, null);
          if (read <= 0) throw new Error('short read');
          filled += read;
        }
      } finally {
        closeSync(fd);
      }
      return bytes;
    } catch {
      urandomWorks = false;
    }
  }
  return builtins.crypto().randomBytes(n);
}

/** A random (version 4) UUID, as `crypto.randomUUID()` makes it, from {@link randomBytes}. */
export function randomUUID(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
