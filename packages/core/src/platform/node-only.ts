import { NodeOnlyError } from '../errors';

const HINT =
  'This lico function reads or writes files (or uses another Node built-in), which a browser cannot. ' +
  'In a page, fetch weights with fetchWeights(url) / fetchClassifier(url) and keep checkpoints off.';

/**
 * A stand-in for a Node built-in module in a browser build: reading any member throws a
 * {@link NodeOnlyError} naming it. `member` names a sub-object (`promises` of `node:fs`).
 */
export function nodeOnly<T extends object>(specifier: string, member?: string): T {
  const what = member ? `${specifier} ${member}` : specifier;
  return new Proxy({} as T, {
    get(_target, prop) {
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      throw new NodeOnlyError(`${what}.${prop} is not available in a browser. ${HINT}`);
    },
  });
}

/** A stand-in for one function of a Node built-in module: calling it throws a {@link NodeOnlyError}. */
export function nodeOnlyFunction(specifier: string, name: string): (...args: never[]) => never {
  return () => {
    throw new NodeOnlyError(`${specifier} ${name}() is not available in a browser. ${HINT}`);
  };
}
