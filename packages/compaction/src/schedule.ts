import assert from 'node:assert/strict';
import { Cron, type CronOptions } from 'croner';
import { ArcError, ErrorKind } from '@arc/errors';
import { CompactionErrorCode } from './error-codes.js';

/**
 * Schedules read as classic cron in UTC (the data's hours are UTC hours): 5 fields (minute hour
 * day-of-month month day-of-week) or 6 with seconds first; croner's nicknames (`@hourly`,
 * `@daily`) work too. Day-of-month and day-of-week combine with OR, as in Vixie cron.
 */
const CRON_OPTIONS: CronOptions = {
  timezone: 'UTC',
  mode: '5-or-6-parts',
  domAndDow: false,
  // A schedule must not keep a stopping process alive: the server stops it, a test may not.
  unref: true,
  // A callback that throws is a programmer error: it must crash, not be swallowed.
  catch: false,
  // The callback only queues jobs (it returns at once), so there is never an overlap to prevent.
  protect: false,
};

const CRON_FORMAT = '5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, in UTC';

/** Why `expression` is not a schedule, or null when it is one. */
export function validateCron(expression: string): string | null {
  try {
    new Cron(expression, { ...CRON_OPTIONS, paused: true });
    return null;
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern: /, '').replace(/\.$/, '');
    return `'${expression}' is not a cron expression: ${reason} (${CRON_FORMAT})`;
  }
}

/**
 * A cron schedule that calls back at each of its times, in UTC. `setting` names where the
 * expression came from (`compaction.hourly_schedule`), for the error a bad one raises.
 */
export class CronSchedule {
  readonly expression: string;
  /** Never started: computes run times only. */
  readonly #pattern: Cron;
  #job: Cron | null = null;

  /** Throws ArcError ARC_COMPACTION_BAD_SCHEDULE (naming `setting`) when `expression` is not a schedule. */
  constructor(expression: string, setting = 'schedule') {
    const invalid = validateCron(expression);
    if (invalid !== null) throw new ArcError(ErrorKind.badRequest, CompactionErrorCode.badSchedule, `${setting}: ${invalid}`, { setting, expression });
    this.expression = expression;
    this.#pattern = new Cron(expression, { ...CRON_OPTIONS, paused: true });
  }

  /** Calls `callback` at every time of the schedule until `stop`. */
  start(callback: () => void): void {
    assert.ok(this.#job === null, 'a schedule is started once until it is stopped');
    this.#job = new Cron(this.expression, CRON_OPTIONS, () => {
      callback();
    });
  }

  /** No callback runs after this returns. Stopping a stopped schedule does nothing. */
  stop(): void {
    this.#job?.stop();
    this.#job = null;
  }

  get running(): boolean {
    return this.#job !== null;
  }

  /** When the callback runs next; null while the schedule is not started. */
  nextRun(): Date | null {
    return this.#job === null ? null : this.#job.nextRun();
  }

  /** The first time of the schedule strictly after `instant` (whole seconds), started or not. */
  nextRunAfter(instant: Date): Date | null {
    return this.#pattern.nextRun(instant);
  }
}
