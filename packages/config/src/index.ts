export { ArcError, ErrorKind, badRequest, isArcError } from './errors.js';
export type { ArcErrorShape } from './errors.js';
