/**
 * @module
 * The `--store` URL of a NATS store: `nats://host:port[,host:port…]`, as NATS tools write a
 * cluster's seed list. Every listed server becomes its own `nats://` URL for the client, which
 * picks one and fails over to the others (and to servers the cluster announces).
 */
import { OutpostError } from '../../errors.ts';

/** The server URLs of `url`; throws OutpostError STORE_URL_INVALID when it is not one. */
export function natsServers(url: string): string[] {
  const match = /^nats:\/\/(.+)$/.exec(url);
  const hosts = match?.[1]?.split(',') ?? [];
  if (hosts.length === 0 || hosts.some((h) => !/^[a-zA-Z0-9.\-[\]:]+:\d{1,5}$/.test(h))) {
    throw new OutpostError('STORE_URL_INVALID', `--store ${JSON.stringify(url)} is not a NATS URL`, {
      fault: 'user',
      hint: 'write nats://host:port, or several servers as nats://a:4222,b:4222',
    });
  }
  return hosts.map((h) => `nats://${h}`);
}
