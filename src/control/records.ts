/**
 * @module
 * What the control plane stores about functions and their versions, and under which keys.
 * A version is immutable once written; a function record points at its active version, and
 * moving that pointer (compare-and-set) is the one atomic step of a deploy or rollback. Aliases
 * (a version or a weighted split) live in the same record for the same reason.
 */
import type { FunctionSpec } from '../project/spec.ts';

/** A function as deployed: its spec minus what only made sense on the machine that built it. */
export type FunctionManifest = Omit<FunctionSpec, 'entry'> & {
  /** The entry file relative to the project root (for messages). */
  entry: string;
};

export interface VersionRecord {
  function: string;
  version: number;
  project: string;
  createdAt: string;
  /** sha-256 of the bundle; blobs at bundles/<digest>/index.js(.map). */
  digest: string;
  manifest: FunctionManifest;
  /** Absolute project root on the machine that built it (dev: shortens stack traces). */
  sourceRoot?: string;
}

export interface FunctionRecord {
  name: string;
  project: string;
  /** The version serving traffic: live's only version, or the heaviest of its split. */
  active: number;
  /** The highest version number ever created (versions are never renumbered). */
  latest: number;
  createdAt: string;
  updatedAt: string;
  /**
   * Named pointers at a version or a weighted split (traffic/versions.ts). `live` is what routes
   * serve; absent means `live` is `active` at 100 %. Stored here so that moving an alias is the
   * same one compare-and-set as a deploy or rollback.
   */
  aliases?: Record<string, AliasRecord>;
}

/** One version of an alias's split and its share of requests, in percent. */
export interface SplitEntry {
  version: number;
  weight: number;
}

export interface AliasRecord {
  /** 1–4 distinct versions whose weights sum to 100. */
  versions: SplitEntry[];
  description?: string;
}

export const keys = {
  functionPrefix: 'functions/',
  function: (name: string) => `functions/${name}`,
  versionPrefix: (name: string) => `versions/${name}/`,
  /** Zero-padded so versions list in numeric order. */
  version: (name: string, version: number) => `versions/${name}/${String(version).padStart(8, '0')}`,
  /** The automatic rollout of a function (traffic/rollout.ts); advanced by compare-and-set. */
  rollout: (name: string) => `rollouts/${name}`,
  rolloutPrefix: 'rollouts/',
  tokenPrefix: 'tokens/',
  token: (id: string) => `tokens/${id}`,
  bundle: (digest: string) => `bundles/${digest}/index.js`,
  sourceMap: (digest: string) => `bundles/${digest}/index.js.map`,
};
