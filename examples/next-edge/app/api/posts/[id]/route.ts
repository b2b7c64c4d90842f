// A dynamic segment: /api/posts/42 → params.id === '42' (a Promise in Next 15; awaited here).
export const runtime = 'edge';

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return Response.json({ id, title: `Post ${id}` });
}
