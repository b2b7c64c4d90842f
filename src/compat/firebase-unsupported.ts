/**
 * @module
 * Firebase triggers Outpost does not serve (Firestore, Pub/Sub, Storage, Auth, scheduler…).
 * A project that defines them beside its HTTPS functions must still load, so every such
 * namespace is a chain that accepts any builder call (`firestore.document('a').onCreate(fn)`)
 * and yields a function that throws if it is ever invoked. The gcf loader routes only HTTPS
 * functions, so these never receive requests.
 */

export function unsupportedTrigger(path: string): unknown {
  const target = function unsupported(): void {};
  return new Proxy(target, {
    get(_t, prop) {
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      return unsupportedTrigger(`${path}.${prop}`);
    },
    apply(_t, _this, args: unknown[]) {
      if (args.some((a) => typeof a === 'function')) {
        return () => {
          throw new Error(`${path} triggers are not served by Outpost; only HTTPS functions (onRequest) run`);
        };
      }
      return unsupportedTrigger(`${path}(…)`);
    },
  });
}
