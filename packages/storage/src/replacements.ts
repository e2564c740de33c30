import assert from 'node:assert/strict';
import { parseMeasurementObjectKey } from './object-keys.js';

/**
 * Replace manifests: how files that replace others (compaction's outputs, later retention's
 * rewrites) are committed in one step on a store that has no multi-file rename.
 *
 *   <database>/<measurement>/_replaced/<id>.json   {"inputs": [keys], "outputs": [keys]}
 *
 * The manifest is written (durably) before any output is published; the commit point is the
 * publication of the last output. A listing that finds a manifest decides by its outputs: all of
 * them present, the replacement committed and its inputs are not files any more; one missing, it
 * did not, and its outputs are not files (yet). The inputs are deleted after the commit, then the
 * manifest; a manifest left by a process that died is finished (or undone) by the next listing.
 */
export const REPLACED_DIRECTORY = '_replaced';
const MANIFEST_SUFFIX = '.json';
const MANIFEST_ID_PATTERN = /^[a-z0-9-]{1,64}$/;

export interface ReplaceManifest {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** The node whose job wrote it (several nodes share a bucket); null in manifests written before nodes were named. */
  readonly node: string | null;
}

export function manifestKey(database: string, measurement: string, id: string): string {
  assert.ok(MANIFEST_ID_PATTERN.test(id), 'a manifest id is short and path-safe');
  return `${database}/${measurement}/${REPLACED_DIRECTORY}/${id}${MANIFEST_SUFFIX}`;
}

/** The database, measurement and job id of a manifest's key; null when the key is not one. */
export function parseManifestKey(key: string): { readonly database: string; readonly measurement: string; readonly id: string } | null {
  return parseMeasurementObjectKey(key, REPLACED_DIRECTORY, MANIFEST_SUFFIX, MANIFEST_ID_PATTERN);
}

export function encodeManifest(manifest: ReplaceManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ inputs: manifest.inputs, outputs: manifest.outputs, node: manifest.node }));
}

function isKeyList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string');
}

/** The manifest's lists; null when the bytes are not a manifest (a torn write never is: put is atomic). */
export function decodeManifest(bytes: Uint8Array): ReplaceManifest | null {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { inputs?: unknown; outputs?: unknown; node?: unknown };
    if (!isKeyList(parsed.inputs) || !isKeyList(parsed.outputs)) return null;
    return { inputs: parsed.inputs, outputs: parsed.outputs, node: typeof parsed.node === 'string' ? parsed.node : null };
  } catch {
    return null;
  }
}
