import type { Transport, TransportSpec } from './transport.js';

/**
 * Where a factory keeps the spec it built a transport from: a non-enumerable property, so that a
 * spread (`{ ...inner, send }`) does not copy it, and under a global symbol, so that the bundles of
 * tallyho (the host's, its late-loaded part, another copy in the process) all read the same mark.
 */
const FACTORY_SPEC = Symbol.for('tallyho.factory-spec');

/** Marks a transport a factory just built as rebuildable from its spec. */
export function registerFactoryBuilt<T extends Transport>(transport: T): T {
  Object.defineProperty(transport, FACTORY_SPEC, { value: transport.spec, enumerable: false });
  return transport;
}

/**
 * The spec that rebuilds exactly `transport`, or `undefined` when there is none: a spec on an object
 * no factory returned (an author's wrapper that copied the one of the transport it wraps, say) would
 * rebuild something else, silently leaving the wrapper out. Without one, only the process that holds
 * the transport sends through it (its next run drains what was left at exit).
 */
export function rebuildableSpec(transport: Transport): TransportSpec | undefined {
  const marked = (transport as { [FACTORY_SPEC]?: unknown })[FACTORY_SPEC];
  return marked !== undefined && marked === transport.spec ? transport.spec : undefined;
}
