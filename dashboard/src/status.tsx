/**
 * @module
 * The three states every panel can be in besides showing data: loading, failed, and "no data
 * yet" (an endpoint this node does not have, or nothing recorded). Errors are announced to
 * screen readers (role=alert); the others are polite status text.
 */
import type { ComponentChildren } from 'preact';
import type { Loaded } from './use-load.ts';

export function Empty({ children }: { children: ComponentChildren }) {
  return (
    <p class="empty" role="status">
      {children}
    </p>
  );
}

function Failure({ error }: { error: Error }) {
  return (
    <p class="failure" role="alert">
      {error.message}
    </p>
  );
}

/** Renders `children(value)` once loaded; loading and failure otherwise. */
export function Show<T>({ loaded, children }: { loaded: Loaded<T>; children: (value: T) => ComponentChildren }) {
  if (loaded.state === 'loading') return <p class="loading" role="status">Loading…</p>;
  if (loaded.state === 'error') return <Failure error={loaded.error} />;
  return <>{children(loaded.value)}</>;
}
