// Programming model v4: GET /api/todos/{id}, POST /api/todos
const { app } = require('@azure/functions');

app.http('getTodo', {
  methods: ['GET'],
  route: 'todos/{id}',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    context.log(`todo ${request.params.id}`);
    return { jsonBody: { id: request.params.id, done: false } };
  },
});

app.http('addTodo', {
  methods: ['POST'],
  route: 'todos',
  authLevel: 'anonymous',
  handler: async (request) => ({ status: 201, jsonBody: { created: await request.json() } }),
});
