/**
 * The web entry's report ids, from Web Crypto: the Node entry reads `/dev/urandom` or `node:crypto`,
 * which browsers and workers do not have. The web build puts this module in place of
 * `config/random.ts` (scripts/build.mjs), so the report builder is the same code in both.
 */
export function randomUUID(): string {
  const crypto = globalThis.crypto;
  // randomUUID exists only in secure contexts (https:, localhost); getRandomValues everywhere.
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
