/**
 * @module
 * The one call shape between a binding's guest object and its host side.
 */
/** Calls `method` of the binding named `binding` on the host; resolves with its result. */
export type Rpc = (binding: string, method: string, args: unknown[]) => Promise<unknown>;

/** A binding's host side: handles one call for one function's declared binding. */
export type HostBinding = (method: string, args: unknown[]) => Promise<unknown>;
