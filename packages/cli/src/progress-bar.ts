/**
 * The progress shown on a terminal by the commands that wait for work (`arc compact`,
 * `arc retention`, `arc import`): a bar of done over total, sizes, rates and the time left, as
 * pure functions of the numbers, and the one way a line is redrawn in place.
 */

/** Bar cells of the TTY progress line. */
const PROGRESS_BAR_CELLS = 10;

/** `[#####.....]`: the filled share of the bar for a fraction (0..1; clamped). */
export function progressCells(fraction: number): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.floor(clamped * PROGRESS_BAR_CELLS);
  return `[${'#'.repeat(filled)}${'.'.repeat(PROGRESS_BAR_CELLS - filled)}]`;
}

/** `[#####.....] 3/7 jobs` (done of total; `unit` names what is counted). */
export function progressBar(done: number, total: number, unit = 'jobs'): string {
  return `${progressCells(total === 0 ? 1 : done / total)} ${String(done)}/${String(total)} ${unit}`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `512 B`, `1.5 KiB`, `10.0 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${String(bytes)} B` : `${value.toFixed(1)} ${UNITS[unit] as string}`;
}

/** A time left or taken, in whole seconds: `42s`, `3m05s`, `2h10m`. */
export function formatSeconds(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  if (whole < 60) return `${String(whole)}s`;
  if (whole < 3600) return `${String(Math.floor(whole / 60))}m${String(whole % 60).padStart(2, '0')}s`;
  return `${String(Math.floor(whole / 3600))}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** A count with thousands separators, the same on every machine: `1,234,567`. */
export function formatCount(count: number): string {
  return Math.round(count).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Carriage return, the line's text, then erase what a longer previous line left to its right. */
export function redrawnLine(text: string): string {
  return `\r${text}\x1b[K`;
}
