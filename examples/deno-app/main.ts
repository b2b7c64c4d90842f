// A Deno Deploy app: `outpost dev examples/deno-app`. Deno.openKv() is this function's own
// database in Outpost's store; Deno.cron becomes a cron trigger (run it now in dev with
// /__scheduled?cron=0+*+*+*+*).
import { getCookies, STATUS_CODE } from '@std/http';

const kv = await Deno.openKv();

Deno.cron('hourly rollup', '0 * * * *', async () => {
  await kv.atomic().sum(['rollups'], 1n).commit();
});

Deno.serve(async (req, info) => {
  const url = new URL(req.url);
  if (url.pathname === '/visits') {
    const visitor = getCookies(req.headers)['visitor'] ?? info.remoteAddr.hostname;
    // Count a visit atomically, and remember the visitor with a one-hour expiry.
    await kv.atomic().sum(['visits'], 1n).set(['visitors', visitor], Date.now(), { expireIn: 3_600_000 }).commit();
    const visits = (await kv.get<Deno.KvU64>(['visits'])).value?.value ?? 0n;
    const recent: string[] = [];
    for await (const entry of kv.list({ prefix: ['visitors'] }, { limit: 10 })) recent.push(String(entry.key[1]));
    return Response.json({ visits: visits.toString(), recent, region: Deno.env.get('DENO_REGION') });
  }
  return new Response('Not Found', { status: STATUS_CODE.NotFound });
});
