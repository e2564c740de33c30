// Proves the progress pieces every waiting command draws read right: the bar of done over total
// (clamped, an empty total full), sizes, times left, counts, and a redraw that clears the rest of the line.
import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatSeconds, progressBar, progressCells, redrawnLine } from '../src/progress-bar.js';

describe('progress bar', () => {
  it('draws done over total', () => {
    expect(progressBar(0, 7)).toBe('[..........] 0/7 jobs');
    expect(progressBar(3, 7)).toBe('[####......] 3/7 jobs');
    expect(progressBar(7, 7)).toBe('[##########] 7/7 jobs');
    expect(progressBar(0, 0, 'measurements')).toBe('[##########] 0/0 measurements');
    expect(progressCells(0.55)).toBe('[#####.....]');
    expect(progressCells(1.7)).toBe('[##########]');
    expect(progressCells(-1)).toBe('[..........]');
  });

  it('formats sizes, times left and counts', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10.0 MiB');
    expect([formatSeconds(0), formatSeconds(41.2), formatSeconds(185), formatSeconds(7800)]).toEqual(['0s', '42s', '3m05s', '2h10m']);
    expect([formatCount(0), formatCount(999), formatCount(1234567), formatCount(1000.4)]).toEqual(['0', '999', '1,234,567', '1,000']);
    expect(redrawnLine('a')).toBe('\ra\x1b[K');
  });
});
