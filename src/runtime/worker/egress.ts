/**
 * @module
 * The guard on a function's outbound fetch(): counts subrequests per invocation and refuses
 * addresses a function must not reach (loopback, private and link-local ranges, the host's
 * own ports) unless the node allows them (`outpost dev` does, for local APIs).
 *
 * Known gap, documented in docs/architecture.md: the name is resolved here and again by fetch,
 * so a DNS answer that changes between the two (rebinding) is not caught.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

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
  /** host:port pairs never reachable (the node's control and AWS ports). */
  denyHosts: string[];
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
  if (policy.allowPrivate) return;
  const addresses = isIP(host) ? [host] : host === 'localhost' ? ['127.0.0.1'] : (await lookup(host, { all: true })).map((a) => a.address);
  const bad = addresses.find(isPrivateAddress);
  if (bad !== undefined) {
    throw new EgressDenied(`fetch to ${url.host} is not allowed: ${bad} is a loopback or private address (allow it with egress.allow_private in the node config)`);
  }
}
