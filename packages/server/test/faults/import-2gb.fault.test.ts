// Proves a 2 GB line protocol file imports with memory that does not follow the file: the file is generated as it is sent
// (never held by the test either), streamed to POST /api/v1/import/lp, and the server's resident
// memory sampled from /proc; the peak of the second half of the upload is above the peak of the
// first half by far less than the bytes of that half (memory does not follow the file), and every
// row is read back. Slow (minutes): a fault test, run with ARC_FAULT_TESTS=1.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from '../support/arc-process.js';
import { useSharedArc } from '../support/shared-arc.js';

const UPLOAD_BYTES = 2 * 1024 * 1024 * 1024;
/**
 * What the second half's peak may add to the first half's: 3/8 of that half's 1 GiB. Measured
 * here (2 vCPUs, load ~20): 983 MB then 1,251 MB, +268 MB while another 1 GiB went through; holding
 * the upload would add the whole GiB. Where the 268 MB goes (writer DuckDB instances, allocator
 * arenas, V8's external memory) is not yet pinned down.
 */
const SECOND_HALF_RSS_GROWTH_MB_MAX = 384;
const BASE_S = Date.UTC(2024, 0, 1) / 1000;
const shared = useSharedArc({ ARC_WRITER_FLUSH_ROWS: '200000' });

function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? 0 : Number(match[1]) * 1024;
}

describe('a 2 GB line protocol import', () => {
  it('keeps the server memory flat and imports every row', async () => {
    let sent = 0;
    let lines = 0;
    const peaks = [0, 0];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= UPLOAD_BYTES) { controller.close(); return; }
        const text = Array.from({ length: 20_000 }, () => {
          lines += 1;
          return `big,host=h${lines % 100},region=r${lines % 7} usage_user=${lines % 100}.5,usage_system=${lines % 37}.25,count=${lines}i ${(BASE_S + lines) * 1e9}`;
        }).join('\n');
        const piece = new TextEncoder().encode(`${text}\n`);
        sent += piece.byteLength;
        controller.enqueue(piece);
      },
    });
    // Sampled every 200 ms: the half of the upload decides which peak a sample counts towards.
    const sampler = setInterval(() => {
      const half = sent < UPLOAD_BYTES / 2 ? 0 : 1;
      peaks[half] = Math.max(peaks[half] ?? 0, rssBytes(shared.arc.child.pid));
    }, 200);
    const response = await fetch(`${shared.arc.url}/api/v1/import/lp?db=huge`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKEN}` }, body, duplex: 'half' }).finally(() => clearInterval(sampler));
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect((JSON.parse(text) as { result: { rows_imported: number } }).result.rows_imported).toBe(lines);
    expect(await shared.client.rows('SELECT count(*) FROM big', 'huge')).toEqual([[lines]]);
    const [firstHalf = 0, secondHalf = 0] = peaks;
    console.log(JSON.stringify({ upload_bytes: sent, rows: lines, rss_peak_first_half_mb: Math.round(firstHalf / 2 ** 20), rss_peak_second_half_mb: Math.round(secondHalf / 2 ** 20) }));
    expect(secondHalf - firstHalf).toBeLessThan(SECOND_HALF_RSS_GROWTH_MB_MAX * 2 ** 20);
  }, 1_800_000);
});
