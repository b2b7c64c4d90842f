/**
 * @module
 * The AWS-compatible port (default 4566, as LocalStack users expect). One HTTP server; each
 * request goes to the AWS service that claims it — JSON-protocol services by `x-amz-target`,
 * Lambda by its REST paths, S3 by exclusion — so the official AWS SDK clients work when
 * pointed at it with `endpoint`.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsService } from '../server/context.ts';

export const ACCOUNT_ID = '000000000000';

export interface AwsApi {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Sends an error in the AWS JSON protocol shape (`__type`, `message`). */
export function sendAwsJsonError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: type, message });
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomUUID(), 'x-amzn-errortype': type });
  res.end(body);
}

/** Reads a whole (small) request body. */
export async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) throw Object.assign(new Error(`request body exceeds ${limit} bytes`), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function startAwsApi(options: { host: string; port: number; services: () => readonly AwsService[] }): Promise<AwsApi> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const service = options.services().find((s) => s.matches(req, url));
    if (!service) {
      sendAwsJsonError(res, 400, 'UnknownOperationException', `no AWS-compatible API here handles ${req.method} ${url.pathname}${req.headers['x-amz-target'] ? ` (${String(req.headers['x-amz-target'])})` : ''}`);
      return;
    }
    service.handle(req, res, url).catch((error: unknown) => {
      if (!res.headersSent) sendAwsJsonError(res, 500, 'InternalFailure', (error as Error).message);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
