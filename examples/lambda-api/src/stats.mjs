// No HTTP route: call it with the Lambda Invoke API on the AWS port, or `outpost invoke stats --event '{}'`.
export const handler = async (event, context) => ({
  function: context.functionName,
  region: process.env.AWS_REGION,
  remainingMs: context.getRemainingTimeInMillis(),
  received: event,
});
