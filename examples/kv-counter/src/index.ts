interface Env {
  COUNTS: KVNamespace;
}

interface KVNamespace {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const page = new URL(request.url).pathname;
    const count = Number((await env.COUNTS.get(page)) ?? 0) + 1;
    await env.COUNTS.put(page, String(count));
    return Response.json({ page, count });
  },
};
