import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { builtins } from '../config/builtins.js';
import { randomBytes } from '../config/random.js';

/**
 * Name resolution for tallyho's own requests, that never keeps an ending process alive and never
 * outlives the request that asked for it.
 *
 * Node's default lookup (`dns.lookup`, the C library's getaddrinfo on the thread pool) cannot be
 * cancelled nor unref'd: a slow resolver held processes open for seconds after their work and their
 * `shutdown()` were done, even from a worker thread. Node's c-ares resolver can be cancelled but keeps
 * the process alive while it waits. So this asks the system's name servers (as `dns.getServers()`
 * lists them, from /etc/resolv.conf or the OS) itself, over an unref'd UDP socket, for A and AAAA
 * records, after /etc/hosts; and stops when `signal` aborts. Hand-written rather than a DNS library:
 * two record types need about a hundred lines, where a packet library would add its weight to every
 * host that embeds tallyho.
 */
export function unrefLookup(signal: AbortSignal): LookupFunction {
  return ((hostname: string, options: { family?: number | string; all?: boolean }, callback: (...args: unknown[]) => void) => {
    const family = options.family === 6 || options.family === 'IPv6' ? 6 : options.family === 4 || options.family === 'IPv4' ? 4 : 0;
    const answer = (error: NodeJS.ErrnoException | null, addresses: { address: string; family: number }[]): void => {
      const wanted = family === 0 ? addresses : addresses.filter((a) => a.family === family);
      if (error === null && wanted.length === 0) error = lookupError('ENOTFOUND', hostname);
      if (error !== null) return options.all ? callback(error, []) : callback(error, '', 0);
      // IPv4 first, as Node's default `verbatim: false` ordering did.
      wanted.sort((a, b) => a.family - b.family);
      return options.all ? callback(null, wanted) : callback(null, wanted[0]!.address, wanted[0]!.family);
    };
    const local = fromHostsFile(hostname);
    if (local.length > 0) return void queueMicrotask(() => answer(null, local));
    resolve(hostname, signal).then(
      (addresses) => answer(null, addresses),
      (error: NodeJS.ErrnoException) => answer(error, []),
    );
  }) as LookupFunction;
}

function lookupError(code: string, hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code === 'ENOTFOUND' ? 'getaddrinfo' : 'queryA'} ${code} ${hostname}`), { code, hostname });
}

/** Addresses /etc/hosts gives `hostname` (and `localhost`, which the C library answers without a file). */
function fromHostsFile(hostname: string): { address: string; family: number }[] {
  const name = hostname.toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }];
  let text: string;
  try {
    text = readFileSync(process.platform === 'win32' ? `${process.env.SystemRoot ?? 'C:\\Windows'}\\System32\\drivers\\etc\\hosts` : '/etc/hosts', 'utf8');
  } catch {
    return [];
  }
  const net = builtins.net();
  const found: { address: string; family: number }[] = [];
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (address === undefined || !names.some((n) => n.toLowerCase() === name)) continue;
    const family = net.isIP(address);
    if (family !== 0) found.push({ address, family });
  }
  return found;
}

/** How long one question waits for one server before the next server (or a second try) is asked. */
const TRY_MS = 2000;

/** Asks the system's name servers for A and AAAA records of `hostname`, until `signal` aborts. */
async function resolve(hostname: string, signal: AbortSignal): Promise<{ address: string; family: number }[]> {
  const servers = builtins.dns().getServers();
  if (servers.length === 0) throw lookupError('ENOTFOUND', hostname);
  let lastError: NodeJS.ErrnoException = lookupError('ETIMEOUT', hostname);
  // Each server twice, in order, as the C library does with its default `attempts:2`.
  for (const server of [...servers, ...servers]) {
    if (signal.aborted) break;
    try {
      const [a, aaaa] = await Promise.allSettled([ask(server, hostname, 1, signal), ask(server, hostname, 28, signal)]);
      const addresses = [...(a.status === 'fulfilled' ? a.value : []), ...(aaaa.status === 'fulfilled' ? aaaa.value : [])];
      if (addresses.length > 0) return addresses;
      const failed = [a, aaaa].find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed === undefined) throw lookupError('ENOTFOUND', hostname);
      lastError = failed.reason as NodeJS.ErrnoException;
      // A name the server says does not exist does not exist on the next server either.
      if (lastError.code === 'ENOTFOUND') throw lastError;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOTFOUND') throw error;
      lastError = error as NodeJS.ErrnoException;
    }
  }
  throw signal.aborted ? lookupError('ECANCELLED', hostname) : lastError;
}

/** One question (type 1: A, 28: AAAA) to one server, over UDP, on a socket that never holds the process. */
function ask(server: string, hostname: string, type: 1 | 28, signal: AbortSignal): Promise<{ address: string; family: number }[]> {
  const { host, port } = parseServer(server);
  const id = randomBytes(2).readUInt16BE(0);
  const query = encodeQuery(id, hostname, type);
  return new Promise((resolvePromise, reject) => {
    const socket = builtins.dgram().createSocket(builtins.net().isIPv6(host) ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (error: NodeJS.ErrnoException | null, addresses: { address: string; family: number }[] = []): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      try {
        socket.close();
      } catch {
        // Already closed.
      }
      if (error === null) resolvePromise(addresses);
      else reject(error);
    };
    const onAbort = (): void => finish(lookupError('ECANCELLED', hostname));
    const timer = setTimeout(() => finish(lookupError('ETIMEOUT', hostname)), TRY_MS);
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    socket.on('error', (error) => finish(error as NodeJS.ErrnoException));
    socket.on('message', (message: Buffer, from: { address: string; port: number }) => {
      if (from.port !== port) return;
      try {
        const reply = decodeReply(message, id, type);
        if (reply === undefined) return;
        if (reply === 'nxdomain') return finish(lookupError('ENOTFOUND', hostname));
        if (reply === 'failed') return finish(lookupError('ESERVFAIL', hostname));
        finish(null, reply);
      } catch {
        // Not a reply we can read: keep waiting for one we can, until the try's time is up.
      }
    });
    socket.unref();
    socket.send(query, port, host, (error) => {
      if (error) finish(error as NodeJS.ErrnoException);
    });
  });
}

function parseServer(server: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) };
  const v4 = /^([\d.]+):(\d+)$/.exec(server);
  if (v4) return { host: v4[1]!, port: Number(v4[2]) };
  return { host: server, port: 53 };
}

/** A standard query with recursion desired, for one name and record type (RFC 1035, 4.1). */
export function encodeQuery(id: number, hostname: string, type: number): Buffer {
  const labels = hostname.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  parts.push(header);
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`not a host name: ${hostname}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  parts.push(tail);
  return Buffer.concat(parts);
}

/**
 * The addresses of the given type in a reply to query `id`: `undefined` when the packet is not that
 * reply, `nxdomain` when the name does not exist, `failed` when the server could not answer (or the
 * answer was truncated). CNAME records are skipped: a recursive server puts the addresses they lead
 * to in the same answer.
 */
export function decodeReply(packet: Buffer, id: number, type: 1 | 28): { address: string; family: number }[] | 'nxdomain' | 'failed' | undefined {
  if (packet.length < 12 || packet.readUInt16BE(0) !== id) return undefined;
  const flags = packet.readUInt16BE(2);
  if ((flags & 0x8000) === 0) return undefined;
  const rcode = flags & 0x000f;
  if (rcode === 3) return 'nxdomain';
  if (rcode !== 0 || (flags & 0x0200) !== 0) return 'failed';
  const questions = packet.readUInt16BE(4);
  const answers = packet.readUInt16BE(6);
  let offset = 12;
  for (let i = 0; i < questions; i++) offset = skipName(packet, offset) + 4;
  const found: { address: string; family: number }[] = [];
  for (let i = 0; i < answers; i++) {
    offset = skipName(packet, offset);
    const recordType = packet.readUInt16BE(offset);
    const length = packet.readUInt16BE(offset + 8);
    const data = packet.subarray(offset + 10, offset + 10 + length);
    if (data.length !== length) throw new Error('short record');
    offset += 10 + length;
    if (recordType !== type) continue;
    if (type === 1 && length === 4) found.push({ address: [...data].join('.'), family: 4 });
    if (type === 28 && length === 16) {
      const groups: string[] = [];
      for (let g = 0; g < 16; g += 2) groups.push(data.readUInt16BE(g).toString(16));
      found.push({ address: groups.join(':'), family: 6 });
    }
  }
  return found;
}

/** The offset just past a (possibly compressed) name. */
function skipName(packet: Buffer, offset: number): number {
  for (;;) {
    const length = packet[offset];
    if (length === undefined) throw new Error('short name');
    if ((length & 0xc0) === 0xc0) return offset + 2;
    if (length === 0) return offset + 1;
    offset += 1 + length;
  }
}
