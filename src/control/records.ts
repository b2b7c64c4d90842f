/**
 * @module
 * What the control plane stores about functions and their versions, and under which keys.
 * A version is immutable once written; a function record points at its active version, and
 * moving that pointer (compare-and-set) is the one atomic step of a deploy or rollback.
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
  /** The version serving traffic. */
  active: number;
  /** The highest version number ever created (versions are never renumbered). */
  latest: number;
  createdAt: string;
  updatedAt: string;
}

export const keys = {
  functionPrefix: 'functions/',
  function: (name: string) => `functions/${name}`,
  versionPrefix: (name: string) => `versions/${name}/`,
  /** Zero-padded so versions list in numeric order. */
  version: (name: string, version: number) => `versions/${name}/${String(version).padStart(8, '0')}`,
  tokenPrefix: 'tokens/',
  token: (id: string) => `tokens/${id}`,
  bundle: (digest: string) => `bundles/${digest}/index.js`,
  sourceMap: (digest: string) => `bundles/${digest}/index.js.map`,
};
