/**
 * Node built-ins that are loaded on first use, not at import. A static `import 'node:https'` pulls in
 * tls and net, and `node:child_process` is nearly as heavy (the bench's start-up row, README "Cost",
 * moves with each): start-up is paid by every program that embeds tallyho, while these are needed only when a report is sent or a sender
 * spawned, and never at all when telemetry is off.
 */
export const builtins = {
  crypto: () => process.getBuiltinModule('node:crypto'),
  childProcess: () => process.getBuiltinModule('node:child_process'),
  http: () => process.getBuiltinModule('node:http'),
  https: () => process.getBuiltinModule('node:https'),
  zlib: () => process.getBuiltinModule('node:zlib'),
  net: () => process.getBuiltinModule('node:net'),
  dns: () => process.getBuiltinModule('node:dns'),
  dgram: () => process.getBuiltinModule('node:dgram'),
  fsPromises: () => process.getBuiltinModule('node:fs/promises'),
};
