// Proves replace manifests (replacements.ts): a replacement swaps inputs for outputs in one catalog
// generation; a listing that meets a manifest takes a committed replacement's outputs and not its
// inputs, an uncommitted one's inputs and not its outputs; a manifest a dead process left is
// settled (inputs or outputs deleted, then the manifest), one of a live process is left alone;
// and day files are found by time ranges inside their day.
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MICROS_PER_HOUR, Storage, dataFileKey, manifestKey, type CatalogEvent, type ReplacementStep } from '../src/index.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const HOUR_US = Date.parse('2025-03-04T05:00:00Z') * 1000;
const SCHEMA_ID = '0123456789abcdef';

function keyOf(unique: string, minuteOffset: number, options: { span?: 'hour' | 'day'; rows?: number } = {}): string {
  const timeUs = HOUR_US + minuteOffset * 60_000_000;
  const span = options.span ?? 'hour';
  const startUs = span === 'hour' ? HOUR_US : HOUR_US - 5 * MICROS_PER_HOUR;
  return dataFileKey({ database: 'db', measurement: 'cpu', hourUs: startUs, nodeId: 'n1', unique, rows: options.rows ?? 1, bytes: 3, minTimeUs: timeUs, maxTimeUs: timeUs, writtenAtMs: Date.parse('2025-03-04T05:30:00Z'), schemaId: SCHEMA_ID, span });
}

async function storeWith(keys: readonly string[]): Promise<{ root: string; storage: Storage }> {
  const root = await tempDirectory('arc-replace-');
  const storage = await Storage.open({ root });
  for (const key of keys) await storage.backend.put(key, new Uint8Array([1, 2, 3]));
  await storage.reload();
  return { root, storage };
}

async function stage(storage: Storage, key: string): Promise<{ staging: string; key: string; columns: null }> {
  const staging = await storage.backend.stagingPathIn(path.posix.dirname(key));
  await writeFile(staging, new Uint8Array([1, 2, 3]));
  await storage.backend.sealStaged(staging);
  return { staging, key, columns: null };
}

const keysOf = (storage: Storage): string[] => storage.catalog.files('db', 'cpu').map((file) => file.key).sort();

async function objectsUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  // The node id file at the root is the data directory's, not an object.
  return entries.filter((entry) => entry.isFile() && entry.name !== '.arc-node-id').map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/')).sort();
}

describe('replace manifests', () => {
  it('swaps inputs for outputs in one generation, and deletes the inputs and the manifest when finished', async () => {
    const inputs = [keyOf('w0-000001-aaaaaa', 1), keyOf('w0-000002-aaaaaa', 2)];
    const { root, storage } = await storeWith(inputs);
    const events: CatalogEvent[] = [];
    storage.onChange((event) => events.push(event));
    const output = keyOf('w0-000002-aaaaaa-c1', 1, { rows: 2 });
    const steps: ReplacementStep[] = [];
    const replacement = await storage.replaceFiles('job1', inputs, [await stage(storage, output)], (step) => steps.push(step));
    expect(events).toHaveLength(1);
    expect(keysOf(storage)).toEqual([output]);
    // The inputs stay on disk until the caller says no query reads them any more.
    expect(await objectsUnder(root)).toEqual([...inputs, output, manifestKey('db', 'cpu', 'job1')].sort());
    await storage.finishReplacement(replacement, (step) => steps.push(step));
    expect(steps).toEqual(['manifest-written', 'output-published', 'committed', 'input-deleted', 'finished']);
    expect(await objectsUnder(root)).toEqual([output]);
  });

  it('lists a committed replacement as its outputs, an uncommitted one as its inputs, and settles them only when left by a dead process', async () => {
    const inputs = [keyOf('w0-000001-aaaaaa', 1), keyOf('w0-000002-aaaaaa', 2)];
    const outputs = [keyOf('w0-000002-aaaaaa-c1', 1), keyOf('w0-000002-aaaaaa-c2', 2)];
    const manifest = JSON.stringify({ inputs, outputs });
    for (const published of [outputs, outputs.slice(0, 1)]) {
      const committed = published.length === outputs.length;
      const { root } = await storeWith([...inputs, ...published]);
      const manifestPath = path.join(root, manifestKey('db', 'cpu', 'job1'));
      await mkdir(path.dirname(manifestPath), { recursive: true });
      await writeFile(manifestPath, manifest);
      // A live process's manifest: the listing follows it and deletes nothing.
      const live = await Storage.open({ root });
      await live.ensureLoaded('db', 'cpu');
      expect(keysOf(live)).toEqual(committed ? outputs : inputs);
      expect(await objectsUnder(root)).toEqual([...inputs, ...published, manifestKey('db', 'cpu', 'job1')].sort());
      // Written before this process started: settled at listing.
      const past = new Date(Date.now() - 60_000);
      await utimes(manifestPath, past, past);
      const restarted = await Storage.open({ root, removeStagedBeforeMs: Date.now() });
      await restarted.ensureLoaded('db', 'cpu');
      expect(keysOf(restarted)).toEqual(committed ? outputs : inputs);
      expect(await objectsUnder(root)).toEqual(committed ? outputs : inputs);
    }
  });

  it('finds a day file by any time range inside its day', async () => {
    const dayFile = keyOf('w0-000001-aaaaaa-c1', 0, { span: 'day' });
    const hourFile = keyOf('w0-000002-aaaaaa', 30);
    const { storage } = await storeWith([dayFile, hourFile]);
    const found = (lowerMinutes: number, upperMinutes: number): string[] =>
      storage.catalog.filesInRange('db', 'cpu', HOUR_US + lowerMinutes * 60_000_000, HOUR_US + upperMinutes * 60_000_000).map((file) => file.key);
    expect(found(-10, 10)).toEqual([dayFile]);
    expect(found(20, 40)).toEqual([hourFile]);
    expect(found(-10, 40).sort()).toEqual([dayFile, hourFile].sort());
    expect(found(1, 29)).toEqual([]);
  });
});
