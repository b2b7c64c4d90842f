/**
 * @module
 * Hash routes (`#/functions/api`): the node serves one index.html and never needs to know the
 * dashboard's pages, and reloading any page works. Segments are URL-encoded (execution ARNs
 * contain `:`).
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'functions' }
  | { page: 'function'; name: string }
  | { page: 'queues' }
  | { page: 'workflows' }
  | { page: 'state-machine'; name: string }
  | { page: 'execution'; arn: string }
  | { page: 'usage' };

export function parseRoute(hash: string): Route {
  const [first, second] = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (first === 'functions' && second !== undefined) return { page: 'function', name: second };
  if (first === 'queues') return { page: 'queues' };
  if (first === 'workflows' && second !== undefined) return { page: 'state-machine', name: second };
  if (first === 'workflows') return { page: 'workflows' };
  if (first === 'executions' && second !== undefined) return { page: 'execution', arn: second };
  if (first === 'usage') return { page: 'usage' };
  return { page: 'functions' };
}

/** The href of a route. */
export function href(route: Route): string {
  switch (route.page) {
    case 'function':
      return `#/functions/${encodeURIComponent(route.name)}`;
    case 'state-machine':
      return `#/workflows/${encodeURIComponent(route.name)}`;
    case 'execution':
      return `#/executions/${encodeURIComponent(route.arn)}`;
    default:
      return `#/${route.page}`;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
