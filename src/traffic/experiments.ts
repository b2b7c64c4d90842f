/**
 * @module
 * A/B experiments declared in outpost.toml:
 *
 *     [[experiments]]
 *     name = "checkout"
 *     cookie = "ab-checkout"            # optional; default outpost-exp-<name>
 *     variants = [{ name = "control", weight = 50 }, { name = "new", weight = 50, version = 7 }]
 *
 * Decisions:
 * - Assignment is sticky by cookie: a client without a valid one is assigned by weight at
 *   random and gets the cookie (a year, HttpOnly); a client with one keeps its variant. A
 *   variant that no longer exists counts as no cookie.
 * - The function learns its variant from the request header `x-outpost-experiment-<name>`;
 *   a variant with `version` is also served by that version of the function (registered by
 *   the node like an alias's versions). It wins over live's split, so an experiment can
 *   compare two versions whatever the split says.
 * - Exposure is the `experiments` field of the invocation record ({ name: variant }), so every
 *   log and metrics sink sees which variant served each request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Fields } from '../project/fields.ts';
import type { PolicyPass, RoutePolicy } from './policy.ts';
import { cookieValue } from './versions.ts';

export interface ExperimentVariant {
  name: string;
  /** Percent of clients, all variants summing to 100. */
  weight: number;
  /** A version of the function that serves this variant (default: what the route serves). */
  version?: number;
}

export interface ExperimentSpec {
  name: string;
  /** The cookie that keeps a client's variant (default `outpost-exp-<name>`). */
  cookie?: string;
  variants: ExperimentVariant[];
}

export const EXPERIMENT_HEADER_PREFIX = 'x-outpost-experiment-';
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const COOKIE_MAX_AGE_S = 365 * 24 * 3600;

export function cookieOf(experiment: ExperimentSpec): string {
  return experiment.cookie ?? `outpost-exp-${experiment.name}`;
}

/** Reads `[[experiments]]` (outpost.toml), recording every problem. */
export function readExperiments(fields: Fields): ExperimentSpec[] {
  const out: ExperimentSpec[] = [];
  const names = new Set<string>();
  for (const e of fields.objects('experiments')) {
    const name = e.string('name', { required: true, pattern: NAME, patternHint: 'use 1–64 lower-case letters, digits, - or _ (it becomes a header name)' });
    const cookie = e.string('cookie', { pattern: /^[A-Za-z0-9_-]{1,64}$/, patternHint: 'use 1–64 letters, digits, - or _' });
    const variants: ExperimentVariant[] = [];
    for (const v of e.objects('variants')) {
      const variant = v.string('name', { required: true, pattern: NAME, patternHint: 'use 1–64 lower-case letters, digits, - or _' });
      const weight = v.number('weight', { required: true, min: 0, max: 100 });
      const version = v.number('version', { integer: true, min: 1 });
      v.reportUnknown(['name', 'weight', 'version']);
      if (variant !== undefined && weight !== undefined) variants.push({ name: variant, weight, ...(version === undefined ? {} : { version }) });
    }
    e.reportUnknown(['name', 'cookie', 'variants']);
    if (name !== undefined && names.has(name)) e.problems.error(e.key('name'), `two experiments are named ${name}`, 'give each experiment its own name');
    if (name !== undefined) names.add(name);
    if (variants.length < 2) e.problems.error(e.key('variants'), 'an experiment needs at least two variants', 'add variants = [{ name = "control", weight = 50 }, { name = "new", weight = 50 }]');
    if (new Set(variants.map((v) => v.name)).size !== variants.length) e.problems.error(e.key('variants'), 'two variants have the same name', 'give each variant its own name');
    const total = variants.reduce((sum, v) => sum + v.weight, 0);
    if (variants.length >= 2 && Math.abs(total - 100) > 1e-9) e.problems.error(e.key('variants'), `the weights sum to ${total}, not 100`, 'make the variants\' weights add up to 100');
    if (name === undefined) continue;
    out.push({ name, ...(cookie === undefined ? {} : { cookie }), variants });
  }
  return out;
}

/** The variant a weight point in [0, 100) falls on. */
export function variantAt(variants: readonly ExperimentVariant[], point: number): ExperimentVariant {
  let upTo = 0;
  for (const v of variants) {
    upTo += v.weight;
    if (point < upTo) return v;
  }
  const last = variants[variants.length - 1];
  if (!last) throw new Error('an experiment without variants');
  return last;
}

export interface ExperimentPolicyOptions {
  experiments: readonly ExperimentSpec[];
  /** Dispatch key of every version of the function this node serves. */
  served: ReadonlyMap<number, string>;
  random?: () => number;
}

/** The route policy that assigns each request its variant of every experiment. */
export function experimentPolicy(options: ExperimentPolicyOptions): RoutePolicy {
  const random = options.random ?? Math.random;
  return {
    name: 'experiments',
    decide(request) {
      const headers = request.headers as IncomingHttpHeaders;
      const cookies = Array.isArray(headers.cookie) ? headers.cookie.join('; ') : headers.cookie;
      const pass: Required<Pick<PolicyPass, 'requestHeaders' | 'responseHeaders' | 'experiments'>> & Pick<PolicyPass, 'version'> = { requestHeaders: [], responseHeaders: [], experiments: {} };
      for (const experiment of options.experiments) {
        const name = cookieOf(experiment);
        const kept = cookieValue(cookies, name);
        let variant = experiment.variants.find((v) => v.name === kept);
        if (!variant) {
          variant = variantAt(experiment.variants, random() * 100);
          pass.responseHeaders.push(['set-cookie', `${name}=${variant.name}; Path=/; Max-Age=${COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Lax`]);
        }
        pass.requestHeaders.push([`${EXPERIMENT_HEADER_PREFIX}${experiment.name}`, variant.name]);
        pass.experiments[experiment.name] = variant.name;
        const key = variant.version === undefined ? undefined : options.served.get(variant.version);
        if (key !== undefined && variant.version !== undefined) pass.version = { key, version: variant.version };
      }
      return pass;
    },
  };
}

/** Every version the experiments route to (the node registers them). */
export function experimentVersions(experiments: readonly ExperimentSpec[] | undefined): number[] {
  return (experiments ?? []).flatMap((e) => e.variants.flatMap((v) => (v.version === undefined ? [] : [v.version])));
}
