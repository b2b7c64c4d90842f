/**
 * @module
 * The guard on a function's outbound connections: fetch() is checked before it starts, and
 * for Node-compatible functions every TCP/TLS socket (node:http, node:https, SDK clients) is
 * checked again at connect time (see {@link guardSockets}). Refused: loopback, private and
 * link-local ranges, the host's own ports, unless the node allows them (`outpost dev` allows
 * private addresses, for local APIs, but never the node's own ports).
 *
 * Known gap, documented in docs/architecture.md: the name is resolved here and again by fetch,
 * so a DNS answer that changes between the two (rebinding) is not caught.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import netModule, { BlockList, isIP, Socket } from 'node:net';

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::1', 128], ['::', 128], ['fc00::', 7], ['fe80::', 10], ['::ffff:0:0', 96]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class EgressDenied extends TypeError {
  readonly code = 'EGRESS_DENIED';
}

export interface EgressPolicy {
  allowPrivate: boolean;
  /** host:port pairs never reachable (the node's control port). */
  denyHosts: string[];
  /** host:port pairs reachable even when private addresses are not (the node's AWS APIs). */
  allowHosts?: string[];
}

/** Throws EgressDenied when `url` may not be fetched under `policy`. */
export async function checkEgress(url: URL, policy: EgressPolicy): Promise<void> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EgressDenied(`fetch to ${url.protocol} URLs is not supported`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (policy.denyHosts.includes(`${host}:${port}`) || ((host === 'localhost' || isPrivateAddress(host)) && policy.denyHosts.some((h) => h.endsWith(`:${port}`)))) {
    throw new EgressDenied(`fetch to ${url.host} is not allowed: it is this Outpost node's own API`);
  }
  if (policy.allowPrivate || policy.allowHosts?.includes(`${host}:${port}`)) return;
  const addresses = isIP(host) ? [host] : host === 'localhost' ? ['127.0.0.1'] : (await lookup(host, { all: true })).map((a) => a.address);
  const bad = addresses.find(isPrivateAddress);
  if (bad !== undefined) {
    throw new EgressDenied(`fetch to ${url.host} is not allowed: ${bad} is a loopback or private address (a node started with --allow-private-network allows it)`);
  }
}

/** Why a connection to `address` (resolved from `host`) on `port` is refused, or undefined. */
function refusal(host: string, address: string, port: number, policy: EgressPolicy): string | undefined {
  const local = host === 'localhost' || isPrivateAddress(address);
  if (policy.denyHosts.includes(`${host}:${port}`) || policy.denyHosts.includes(`${address}:${port}`) || (local && policy.denyHosts.some((h) => h.endsWith(`:${port}`)))) {
    return `${host}:${port} is this Outpost node's own API`;
  }
  if (!policy.allowPrivate && isPrivateAddress(address) && !policy.allowHosts?.includes(`${host}:${port}`) && !policy.allowHosts?.includes(`${address}:${port}`)) return `${address} is a loopback or private address (a node started with --allow-private-network allows it)`;
  return undefined;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Lookup = (hostname: string, options: object, callback: LookupCallback) => void;

/**
 * Node-compatible functions can open connections without fetch (node:http, node:https, the
 * AWS SDK's handlers). Every TCP or TLS socket in the isolate goes through
 * `net.Socket.prototype.connect`, so the egress policy is applied there: local (unix) sockets
 * are refused, IP literals are checked before connecting and host names after DNS resolution
 * (which also closes the rebinding gap for these connections). Refused connections fail with
 * an `EGRESS_DENIED` error event, as a refused connection would.
 */
export function guardSockets(policy: EgressPolicy): void {
  const proto = Socket.prototype;
  const connect = proto.connect;
  const normalize = (netModule as unknown as { _normalizeArgs(args: unknown[]): unknown[] })._normalizeArgs;
  proto.connect = function guardedConnect(this: Socket, ...args: unknown[]): Socket {
    const normalized = Array.isArray(args[0]) ? (args[0] as unknown[]) : normalize(args);
    const options = { ...(normalized[0] as Record<string, unknown>) };
    const callback = normalized[1];
    const refuse = (why: string): Socket => {
      this.destroy(new EgressDenied(`connection refused by Outpost: ${why}`));
      return this;
    };
    if (typeof options['path'] === 'string') return refuse('functions cannot connect to local sockets');
    const host = typeof options['host'] === 'string' && options['host'] !== '' ? options['host'] : 'localhost';
    const port = Number(options['port']);
    if (isIP(host) !== 0) {
      const why = refusal(host, host, port, policy);
      if (why !== undefined) return refuse(why);
    } else {
      const resolve = (typeof options['lookup'] === 'function' ? options['lookup'] : dnsLookup) as Lookup;
      options['lookup'] = (hostname: string, lookupOptions: object, done: LookupCallback) =>
        resolve(hostname, lookupOptions, (error, address, family) => {
          if (error) return done(error, address, family);
          const all = Array.isArray(address) ? address : [{ address, family: family ?? 4 }];
          for (const a of all) {
            const why = refusal(hostname, a.address, port, policy);
            if (why !== undefined) return done(Object.assign(new EgressDenied(`connection refused by Outpost: ${why}`), { errno: 0, syscall: 'connect' }), address, family);
          }
          done(null, address, family);
        });
    }
    return (connect as (...a: unknown[]) => Socket).call(this, options, ...(typeof callback === 'function' ? [callback] : []));
  } as typeof proto.connect;
}
