/**
 * @module
 * Options every foreign-format loader (serverless, SAM, Next.js, Deno, Google, Azure) takes.
 * Kept apart from the loaders so the detection code can import the type without pulling in any
 * loader's parser.
 */

export interface LoadOptions {
  /** Deployment stage (`--stage`); serverless uses it for `${opt:stage}` / `${sls:stage}`. */
  stage?: string;
  /** Environment for `${env:X}` and similar look-ups; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** `outpost dev` (true) or a deploy/serve (false); picks dev-only files such as `.env.development`. */
  dev: boolean;
}

/** The environment a loader reads, so tests can pass their own without touching process.env. */
export function loaderEnv(options: LoadOptions): Record<string, string | undefined> {
  return options.env ?? process.env;
}
