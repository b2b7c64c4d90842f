// HTTP API (payload 2.0) handler in TypeScript, typed with the aws-lambda package's types.
import type { APIGatewayProxyHandlerV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

interface Todo {
  id: string;
  title: string;
  done: boolean;
}

// Module state lives as long as the warm instance, as on Lambda.
const todos = new Map<string, Todo>();

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export const handler: APIGatewayProxyHandlerV2 = async (event) => {
  const id = event.pathParameters?.id;
  if (id !== undefined) {
    const todo = todos.get(id);
    return todo ? json(200, todo) : json(404, { error: `no todo ${id}` });
  }
  if (event.requestContext.http.method === 'POST') {
    const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString() : (event.body ?? '{}');
    const { title } = JSON.parse(raw) as { title?: string };
    if (!title) return json(400, { error: 'title is required' });
    const todo: Todo = { id: randomUUID(), title, done: false };
    todos.set(todo.id, todo);
    console.log('created', todo.id);
    return json(201, todo);
  }
  // A plain object is sent as a JSON 200 by HTTP APIs.
  return { todos: [...todos.values()] } as unknown as APIGatewayProxyStructuredResultV2;
};
