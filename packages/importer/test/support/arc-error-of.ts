import { ArcError } from '@arc/errors';

/** The ArcError `run` throws; fails the test when it throws something else or nothing. */
export function errorOf(run: () => unknown): ArcError {
  try {
    run();
  } catch (error) {
    if (error instanceof ArcError) return error;
    throw error;
  }
  throw new Error('expected an ArcError');
}
