// REST API (payload 1.0) handler, CommonJS and callback style.
'use strict';

exports.handler = (event, context, callback) => {
  const name = (event.queryStringParameters && event.queryStringParameters.name) || 'World';
  callback(null, {
    statusCode: 200,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ message: `${process.env.GREETING}, ${name}!`, requestId: context.awsRequestId }),
  });
};
