interface Env {
  GREETING: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/json') {
      return Response.json({ greeting: env.GREETING, country: (request as Request & { cf?: { country?: string } }).cf?.country ?? null });
    }
    return new Response(`${env.GREETING}! You asked for ${url.pathname}\n`, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  },
};
