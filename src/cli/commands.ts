/**
 * @module
 * The table of commands: name → options, help text and the function that runs it.
 */
import type { ParseArgsConfig } from 'node:util';
import { dev, serve } from './node-commands.ts';
import { deploy, invoke, list, remove, rollback, versions } from './control-commands.ts';
import { queues, trigger } from './queues-commands.ts';
import { workflows } from './workflows-commands.ts';
import { keys } from './keys-commands.ts';
import { secret } from './secrets-commands.ts';
import { d1 } from './d1-commands.ts';
import { kv } from './kv-commands.ts';

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  summary: string;
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Values, positionals: string[]): Promise<number>;
}

const remote = {
  to: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const REMOTE_HELP = `  --to <url>       the node (default $OUTPOST_URL or http://127.0.0.1:8787)
  --token <token>  control API token (default $OUTPOST_TOKEN; not needed for outpost dev on loopback)
  --json           print the result as JSON`;

export const COMMANDS: Record<string, Command> = {
  secret: {
    summary: 'set, list and delete a function\'s secrets',
    options: { ...remote, function: { type: 'string' }, name: { type: 'string' } },
    help: `outpost secret <put|list|delete> --function <fn> — a function's encrypted secrets

  outpost secret put <name> --function <fn>     set a secret; the value is read from stdin
  outpost secret list --function <fn>           the names (values are never shown again)
  outpost secret delete <name> --function <fn>  remove a secret

Options:
${REMOTE_HELP}
  --function <fn>  the function the secret belongs to (also --name, as wrangler spells it;
                   default: the function of the project in the current folder)

A secret reaches the function on env (and process.env for Node styles). A change takes effect
at once: the function's running instances finish what they are doing and new ones load the new
values. Secrets are encrypted at rest with the node's key (OUTPOST_SECRETS_KEY, or secrets.key
in the state directory).

Examples:
  echo -n "$API_KEY" | outpost secret put API_KEY --function billing
  outpost secret list --function billing`,
    run: secret,
  },
  d1: {
    summary: 'query D1 databases and apply migrations',
    // --local / --remote are wrangler's; accepted so its habits work, and ignored: the node is the database.
    options: { ...remote, command: { type: 'string' }, file: { type: 'string' }, dir: { type: 'string' }, local: { type: 'boolean' }, remote: { type: 'boolean' } },
    help: `outpost d1 <list|execute|migrations apply> — the node's D1 (SQL) databases

  outpost d1 list                                   databases on the node
  outpost d1 execute <database> --command "<sql>"   run SQL (several statements allowed)
  outpost d1 execute <database> --file <file.sql>   run a SQL file
  outpost d1 migrations apply <database>            apply the .sql files of ./migrations not yet
                                                    recorded in the database's d1_migrations table

Options:
${REMOTE_HELP}
  --command <sql>  SQL to run
  --file <path>    a file of SQL to run
  --dir <folder>   migrations folder (default ./migrations)

<database> is the database_name of a [[d1_databases]] binding.

Examples:
  outpost d1 execute shop --command "SELECT * FROM orders LIMIT 5"
  outpost d1 migrations apply shop --dir ./migrations`,
    run: d1,
  },
  kv: {
    summary: 'list and create KV namespaces; read, write and bulk-load keys',
    options: { ...remote, namespace: { type: 'string' }, prefix: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, ttl: { type: 'string' }, expiration: { type: 'string' }, metadata: { type: 'string' } },
    help: `outpost kv <namespace|key|bulk> — the node's KV namespaces

  outpost kv namespace list                         namespaces (created, or holding keys)
  outpost kv namespace create <name>                create one (its id is the name)
  outpost kv key get <key> --namespace <id>         print a value
  outpost kv key put <key> <value> --namespace <id> (--ttl <s>, --expiration <epoch s>, --metadata <json>)
  outpost kv key delete <key> --namespace <id>
  outpost kv key list --namespace <id>              (--prefix <p>, --limit <n>, --cursor <c>)
  outpost kv bulk put <file.json> --namespace <id>  [{ key, value, expiration?, expiration_ttl?, metadata?, base64? }]
  outpost kv bulk get <file.json> --namespace <id>  a JSON array of keys; prints { key: value }

Options:
${REMOTE_HELP}

<id> is the id of a [[kv_namespaces]] binding. Writes meet Workers KV's limits.

Examples:
  outpost kv key put greeting hello --namespace CACHE
  outpost kv bulk put seed.json --namespace CACHE`,
    run: kv,
  },
  dev: {
    summary: 'serve a project (or a folder of projects) locally, reloading on save',
    options: { port: { type: 'string' }, host: { type: 'string' }, 'aws-port': { type: 'string' }, state: { type: 'string' }, env: { type: 'string' }, quiet: { type: 'boolean' }, 's3-auth': { type: 'boolean' } },
    help: `outpost dev [dir] — serve a project locally with hot reload

Options:
  --port <n>       HTTP port (default 8787; 0 picks a free port)
  --host <addr>    address to listen on (default 127.0.0.1)
  --aws-port <n>   AWS-compatible APIs (default 4566; 0 picks a free port)
  --state <dir>    state directory (default .outpost)
  --env <name>     wrangler environment / serverless stage
  --quiet          no request log
  --s3-auth        verify SigV4 signatures on the S3 API with keys from outpost keys create
                   (without it, dev accepts any credentials, as LocalStack does)

Prints "ready on http://127.0.0.1:<port>" when it accepts requests.

Examples:
  outpost dev ./my-worker
  outpost dev examples --port 0`,
    run: dev,
  },
  serve: {
    summary: 'run a long-lived node with the control API',
    options: { port: { type: 'string' }, host: { type: 'string' }, 'aws-port': { type: 'string' }, state: { type: 'string' }, region: { type: 'string' }, 'trust-proxy': { type: 'string', multiple: true }, quiet: { type: 'boolean' }, 'allow-private-network': { type: 'boolean' } },
    help: `outpost serve — run a node that serves what is deployed to it

Options:
  --state <dir>        state directory (default .outpost)
  --port <n>           HTTP port (default 8787; 0 picks a free port)
  --host <addr>        address to listen on (default 127.0.0.1)
  --aws-port <n>       AWS-compatible APIs (default 4566; 0 picks a free port)
  --region <name>      region reported to functions (default local)
  --trust-proxy <ip>   trust geo and x-forwarded-for headers from this proxy (repeatable)
  --allow-private-network  let functions reach loopback and private addresses (denied by default)
  --quiet              no request log

On first start it creates an admin token and prints it once on stderr.

Examples:
  outpost serve --state ./data
  outpost serve --state ./data --port 0`,
    run: serve,
  },
  deploy: {
    summary: 'build a project and deploy it to a node',
    options: { ...remote, env: { type: 'string' } },
    help: `outpost deploy [dir] — build every function of a project and deploy it

Options:
${REMOTE_HELP}
  --env <name>     wrangler environment / serverless stage

A bundle that fails to build or to start is rejected; the previous version keeps serving.

Examples:
  outpost deploy ./my-worker --to http://127.0.0.1:8787 --token op_…`,
    run: deploy,
  },
  ls: { summary: 'list deployed functions', options: remote, help: `outpost ls — list deployed functions\n\nOptions:\n${REMOTE_HELP}`, run: list },
  versions: {
    summary: 'list the versions of a function',
    options: remote,
    help: `outpost versions <function> — list a function's versions (the active one is marked)\n\nOptions:\n${REMOTE_HELP}`,
    run: versions,
  },
  rollback: {
    summary: 'point a function back at an earlier version',
    options: { ...remote, version: { type: 'string' } },
    help: `outpost rollback <function> [--version N] — switch to an earlier version (default: the one before)\n\nOptions:\n${REMOTE_HELP}\n  --version <n>    the version to switch to`,
    run: rollback,
  },
  invoke: {
    summary: 'call a function once and print its answer',
    options: { ...remote, data: { type: 'string' }, event: { type: 'string' }, path: { type: 'string' }, method: { type: 'string' }, async: { type: 'boolean' }, 'idempotency-key': { type: 'string' } },
    help: `outpost invoke <function> — call a function and print the response

Options:
${REMOTE_HELP}
  --path <path>    request path (default /)
  --method <m>     request method (default GET, or POST with --data)
  --data <body>    request body
  --event <json>   send an event instead of an HTTP request (Lambda-style functions)
  --async          queue the event and return at once (Lambda InvocationType Event): retried
                   on error, then sent to the function's on-failure destination
  --idempotency-key <id>  with --async: repeats with this id within 5 minutes are queued once

Examples:
  outpost invoke hello --path /health
  outpost invoke orders --event '{"id":1}'
  outpost invoke orders --async --event '{"id":1}'`,
    run: invoke,
  },
  delete: {
    summary: 'delete a function and its versions',
    options: remote,
    help: `outpost delete <function> — stop serving a function and remove its versions\n\nOptions:\n${REMOTE_HELP}`,
    run: remove,
  },
  workflows: {
    summary: 'list, start and inspect state machine executions',
    options: { ...remote, input: { type: 'string' }, name: { type: 'string' }, status: { type: 'string' }, wait: { type: 'boolean' } },
    help: `outpost workflows <list|start|describe|history> — state machines (Step Functions) on a node

  outpost workflows list                      state machines
  outpost workflows list <state-machine>      its executions, newest first (--status RUNNING)
  outpost workflows start <state-machine>     start an execution (--input <json>, --name <n>, --wait)
  outpost workflows describe <execution>      status, input, output, error
  outpost workflows history <execution>       the execution's history events

An execution is its ARN or <state-machine>/<name>.

Options:
${REMOTE_HELP}
  --input <json>   execution input (default {})
  --name <name>    execution name (default: a UUID; the same name and input twice is idempotent)
  --status <s>     list only executions with this status
  --wait           start: wait for the execution to end; exit 1 unless it succeeded

Examples:
  outpost workflows start order-flow --input '{"orderId":"o1"}' --wait
  outpost workflows history order-flow/order-o1`,
    run: workflows,
  },
  queues: {
    summary: 'list, create, send to, peek at and redrive queues',
    options: { ...remote, 'visibility-timeout': { type: 'string' }, 'max-receives': { type: 'string' }, dlq: { type: 'string' }, 'content-type': { type: 'string' }, delay: { type: 'string' }, limit: { type: 'string' }, dead: { type: 'boolean' }, 'to-queue': { type: 'string' } },
    help: `outpost queues <list|create|send|peek|purge|dlq redrive> — the node's queues

  outpost queues list                         depth, in flight, delayed, dead, oldest age, consumers
  outpost queues create <queue>               (--visibility-timeout <s>, --max-receives <n> --dlq <queue>)
  outpost queues send <queue> <body>          a JSON body (--content-type text|json, --delay <s>)
  outpost queues peek <queue>                 look at messages without taking them (--limit <n>, --dead)
  outpost queues purge <queue>                delete every message
  outpost queues dlq redrive <queue>          deliver dead messages again (from a DLQ to the queue each
                                              came from, or a queue's own dead messages; --to-queue <q>)

Options:
${REMOTE_HELP}

A message that fails max_retries times goes to the consumer's dead_letter_queue; with none it
stays in its queue as dead and \`outpost queues list\` counts it.

Examples:
  outpost queues send jobs '{"id":1}'
  outpost queues peek jobs-dlq --limit 5
  outpost queues dlq redrive jobs-dlq`,
    run: queues,
  },
  keys: {
    summary: 'create, list and delete access keys for the S3 API',
    options: { ...remote, label: { type: 'string' } },
    help: `outpost keys <create|list|delete> — access keys for the S3 API on the AWS port

  outpost keys create [--label <text>]   a new key pair; the secret is printed once
  outpost keys list                      key ids, when created, labels (never secrets)
  outpost keys delete <access-key-id>    requests signed with it are refused from now on

\`outpost serve\` verifies every S3 request's SigV4 signature against these keys;
\`outpost dev\` does too when started with --s3-auth (otherwise it accepts any credentials).

Options:
${REMOTE_HELP}
  --label <text>   a note kept with the key

Examples:
  outpost keys create --label ci
  AWS_ACCESS_KEY_ID=OPAK… AWS_SECRET_ACCESS_KEY=… aws --endpoint-url http://127.0.0.1:4566 s3 ls`,
    run: keys,
  },
  trigger: {
    summary: 'run a function\'s scheduled handler now',
    options: { ...remote, cron: { type: 'string' } },
    help: `outpost trigger cron <function> [--cron <expression>] — run a scheduled handler now

Options:
${REMOTE_HELP}
  --cron <expr>    the cron the handler sees (default: the function's first cron trigger)

Examples:
  outpost trigger cron jobs
  outpost trigger cron jobs --cron '*/5 * * * *'`,
    run: trigger,
  },
};
