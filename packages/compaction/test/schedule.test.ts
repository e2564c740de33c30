// Proves compaction's cron schedules read expressions as UTC cron (next run of "5 * * * *" and
// "0 3 * * *" after given instants), refuse bad ones with a message naming the expression and the
// setting, and call back at each time until stopped, under Vitest's fake clock (no real waits).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CompactionErrorCode, CronSchedule, validateCron } from '@arc/compaction';

afterEach(() => {
  vi.useRealTimers();
});

describe('validateCron', () => {
  it('accepts 5- and 6-field expressions and nicknames', () => {
    for (const expression of ['5 * * * *', '0 3 * * *', '*/10 * * * * *', '0 0 * * 1-5', '@hourly']) expect(validateCron(expression)).toBeNull();
  });

  it.each([
    ['61 * * * *', /'61 \* \* \* \*' is not a cron expression: .*minute: 61/],
    ['every hour', /'every hour' is not a cron expression: .*five, six, or seven/],
    ['* * * *', /'\* \* \* \*' is not a cron expression/],
    ['0 0 0 1 1 * 2030', /requires exactly 5 or 6 parts/],
    ['5 * * * x', /'5 \* \* \* x' is not a cron expression/],
    ['', /'' is not a cron expression/],
  ])('refuses %j', (expression, message) => {
    const error = validateCron(expression);
    expect(error).toMatch(message);
    expect(error).toContain('in UTC');
  });
});

describe('CronSchedule', () => {
  it('gives the next run strictly after an instant, in UTC', () => {
    const hourly = new CronSchedule('5 * * * *');
    expect(hourly.nextRunAfter(new Date('2026-12-05T09:04:59.500Z'))?.toISOString()).toBe('2026-12-05T09:05:00.000Z');
    expect(hourly.nextRunAfter(new Date('2026-12-05T09:05:00.000Z'))?.toISOString()).toBe('2026-12-05T10:05:00.000Z');
    expect(hourly.nextRunAfter(new Date('2026-12-31T23:30:00.000Z'))?.toISOString()).toBe('2027-01-01T00:05:00.000Z');
    const daily = new CronSchedule('0 3 * * *');
    expect(daily.nextRunAfter(new Date('2026-12-05T03:00:00.000Z'))?.toISOString()).toBe('2026-12-06T03:00:00.000Z');
    expect(daily.nextRunAfter(new Date('2026-12-05T02:59:59.000Z'))?.toISOString()).toBe('2026-12-05T03:00:00.000Z');
  });

  it('throws ARC_COMPACTION_BAD_SCHEDULE naming the setting and the expression', () => {
    expect(() => new CronSchedule('5 * * *', 'compaction.hourly_schedule')).toThrow(
      expect.objectContaining({
        code: CompactionErrorCode.badSchedule,
        message: expect.stringMatching(/^compaction\.hourly_schedule: '5 \* \* \*' is not a cron expression/) as unknown,
        details: { setting: 'compaction.hourly_schedule', expression: '5 * * *' },
      }),
    );
  });

  it('calls back at each time until stopped, and reports its next run only while started', () => {
    vi.useFakeTimers({ now: new Date('2026-12-05T09:00:00.000Z') });
    const schedule = new CronSchedule('5 * * * *');
    const calls: string[] = [];
    expect(schedule.nextRun()).toBeNull();
    schedule.start(() => calls.push(new Date().toISOString()));
    expect(schedule.running).toBe(true);
    expect(schedule.nextRun()?.toISOString()).toBe('2026-12-05T09:05:00.000Z');
    vi.advanceTimersByTime(4 * 60_000);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(2 * 60 * 60_000);
    expect(calls).toEqual(['2026-12-05T09:05:00.000Z', '2026-12-05T10:05:00.000Z']);
    schedule.stop();
    expect(schedule.running).toBe(false);
    expect(schedule.nextRun()).toBeNull();
    vi.advanceTimersByTime(5 * 60 * 60_000);
    expect(calls).toHaveLength(2);
    expect(() => schedule.stop()).not.toThrow();
    // A stopped schedule may start again.
    schedule.start(() => calls.push(new Date().toISOString()));
    vi.advanceTimersByTime(60 * 60_000);
    expect(calls.at(-1)).toBe('2026-12-05T16:05:00.000Z');
    schedule.stop();
  });

  it('refuses a second start while running (a programmer error)', () => {
    const schedule = new CronSchedule('0 3 * * *');
    schedule.start(() => undefined);
    expect(() => schedule.start(() => undefined)).toThrow(/started once/);
    schedule.stop();
  });
});
