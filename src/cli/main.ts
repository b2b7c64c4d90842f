#!/usr/bin/env node
/**
 * @module
 * `outpost <command>`: the command line. Each command lives in its own file; this one parses
 * the command name, prints help, and turns errors into readable messages and exit codes.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { EXIT, printError, UsageError } from './output.ts';
import { COMMANDS } from './commands.ts';

const HELP = `outpost — run Workers, Lambda, Vercel, Deno, Google and Azure functions on your own machines

Usage: outpost <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`outpost <command> --help\` for a command's options and examples.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('outpost 0.1.0\n');
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`✘ unknown command "${name}"\n\n${HELP}`);
    return EXIT.usage;
  }
  const config: ParseArgsConfig = { args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    process.stderr.write(`✘ ${(error as Error).message}\n\n${command.help}\n`);
    return EXIT.usage;
  }
  if (parsed.values['help']) {
    process.stdout.write(`${command.help}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`✘ ${error.message}\n\n${command.help}\n`);
      return EXIT.usage;
    }
    printError(error);
    return EXIT.failed;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
