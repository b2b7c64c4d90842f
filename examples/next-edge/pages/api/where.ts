// A pages-router edge API route. Location and client address come from Outpost's request
// metadata (in dev, from x-vercel-ip-* / x-forwarded-for headers you send, to simulate a visitor).
import { geolocation, ipAddress } from '@vercel/functions';
import type { NextRequest } from 'next/server';

export const config = { runtime: 'edge' };

export default function handler(request: NextRequest) {
  return Response.json({ geo: geolocation(request), ip: ipAddress(request) ?? null, path: request.nextUrl.pathname });
}
