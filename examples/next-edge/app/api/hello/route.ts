// An app-router route handler on the edge runtime. `outpost dev examples/next-edge` serves it at
// /api/hello; methods it does not export answer 405 with an Allow header, as in Next.
import { NextResponse, type NextRequest } from 'next/server';

export const runtime = 'edge';

export async function GET(request: NextRequest) {
  const name = request.nextUrl.searchParams.get('name') ?? 'world';
  const response = NextResponse.json({ hello: name, site: process.env.SITE_NAME, region: process.env.VERCEL_REGION });
  response.cookies.set('last-greeted', name, { httpOnly: true });
  return response;
}

export async function POST(request: NextRequest) {
  return NextResponse.json({ received: await request.json() }, { status: 201 });
}
