/**
 * Typed errors shared by every lico package. Each names the problem precisely so a caller can
 * branch on `code` and a person can act on `message`.
 */

/** Error codes of {@link LicoError}. */
export type LicoErrorCode =
  | 'SHAPE'
  | 'DTYPE'
  | 'NON_FINITE'
  | 'CONFIG'
  | 'UNKNOWN_NAME'
  | 'FILE_FORMAT'
  | 'NOT_FOUND'
  | 'MISSING_PEER'
  | 'NODE_ONLY';

/** The brand every {@link LicoError} carries, shared by every copy of this package (ESM, CJS, bundles). */
const LICO_ERROR_BRAND = Symbol.for('@lico/core.LicoError');

/** Base class of every error lico throws on purpose. */
export class LicoError extends Error {
  /** A stable, machine-readable code. */
  readonly code: LicoErrorCode;
  constructor(code: LicoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    Object.defineProperty(this, LICO_ERROR_BRAND, { value: true });
  }
}

/**
 * Whether `error` is a lico error (optionally with `code`), also when it comes from another copy
 * of `@lico/core` (its ESM and CJS builds are two modules, so `instanceof` can fail across them).
 * Branch on `error.code`; `error.name` is the class name (`'ConfigError'`, …).
 */
export function isLicoError(error: unknown, code?: LicoErrorCode): error is LicoError {
  if (typeof error !== 'object' || error === null || (error as Record<symbol, unknown>)[LICO_ERROR_BRAND] !== true) return false;
  return code === undefined || (error as LicoError).code === code;
}

/** A tensor or array has the wrong rank or shape; the message prints the shapes. */
export class ShapeError extends LicoError {
  constructor(message: string) {
    super('SHAPE', message);
  }
}

/** A tensor has the wrong dtype. */
export class DTypeError extends LicoError {
  constructor(message: string) {
    super('DTYPE', message);
  }
}

/** A value that must be finite holds NaN or ±Infinity. */
export class NonFiniteError extends LicoError {
  constructor(message: string) {
    super('NON_FINITE', message);
  }
}

/** An option or configuration value is invalid. */
export class ConfigError extends LicoError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/** A name (plugin, backend, class, dataset, layer, …) is unknown; the message lists the valid ones. */
export class UnknownNameError extends LicoError {
  /** What kind of name it was, e.g. `'backend'`. */
  readonly kind: string;
  /** The name that was asked for. */
  readonly requested: string;
  /** The names that would have been accepted. */
  readonly valid: readonly string[];
  constructor(kind: string, requested: string, valid: readonly string[]) {
    super('UNKNOWN_NAME', `Unknown ${kind} '${requested}'. Valid ${kind}s: ${valid.map((v) => `'${v}'`).join(', ')}.`);
    this.kind = kind;
    this.requested = requested;
    this.valid = valid;
  }
}

/** A file is corrupt, truncated or not of the expected format; the message names the file. */
export class FileFormatError extends LicoError {
  /** The file concerned. */
  readonly file: string;
  constructor(file: string, problem: string) {
    super('FILE_FORMAT', `${file}: ${problem}`);
    this.file = file;
  }
}

/** A file, directory or resource that is needed could not be found. */
export class NotFoundError extends LicoError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** An optional peer package is needed but not installed; the message says how to install it. */
export class MissingPeerError extends LicoError {
  /** The npm package that is missing. */
  readonly packageName: string;
  constructor(packageName: string, purpose: string, options?: { cause?: unknown }) {
    super('MISSING_PEER', `${purpose} needs the optional package '${packageName}', which is not installed. Install it with: npm install ${packageName}`, options);
    this.packageName = packageName;
  }
}

/** A Node-only helper (files, downloads, worker threads) was called where Node's built-ins are absent (a browser). */
export class NodeOnlyError extends LicoError {
  constructor(message: string) {
    super('NODE_ONLY', message);
  }
}
