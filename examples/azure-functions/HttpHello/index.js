// Programming model v3: GET /api/HttpHello?name=Ada
module.exports = async function (context, req) {
  const name = req.query.name || (req.body && req.body.name) || 'World';
  context.log(`greeting ${name}`);
  context.res = { body: { message: `Hello, ${name}!` } };
};
