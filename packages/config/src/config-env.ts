import assert from 'node:assert/strict';
import { ConfigError } from './config-error.js';
import { ConfigErrorCode } from './error-codes.js';
import { CONFIG_SECTIONS, configKeyKind } from './config-schema.js';
import type { ConfigKeyKind } from './config-schema.js';

/**
 * Environment overrides. Every arc.conf key can be set as `ARC_<SECTION>_<KEY>` in upper case
 * (`writer.flush_age_ms` is `ARC_WRITER_FLUSH_AGE_MS`); a few short names kept from earlier Arc
 * versions are accepted too. An `ARC_*` variable that matches nothing is reported as a warning,
 * not an error: the environment is shared with other tools and a stop would be too harsh.
 */

export const ENV_PREFIX = 'ARC_';
/** Names the config file; read by `loadConfig` itself, never an override. */
export const CONFIG_PATH_ENV = 'ARC_CONFIG';

interface KeyRef {
  readonly section: string;
  readonly key: string;
}

/** Short names from Arc's earlier releases. The generic form wins when both are set. */
const SHORT_ENV_NAMES: Readonly<Record<string, KeyRef>> = {
  ARC_HOST: { section: 'server', key: 'host' },
  ARC_PORT: { section: 'server', key: 'port' },
  ARC_WORKERS: { section: 'ingest', key: 'decoders' },
  ARC_DATA_DIR: { section: 'storage', key: 'data_dir' },
  ARC_NODE_ID: { section: 'cluster', key: 'node_id' },
};

/**
 * Names the earlier Arc read for object storage, kept so its deployments start unchanged. Read
 * like the short names: the ARC_* form of the same key wins when both are set.
 */
const SEED_ENV_NAMES: Readonly<Record<string, KeyRef>> = {
  STORAGE_BACKEND: { section: 'storage', key: 'backend' },
  MINIO_ENDPOINT: { section: 'storage.s3', key: 'endpoint' },
  MINIO_ACCESS_KEY: { section: 'storage.s3', key: 'access_key' },
  MINIO_SECRET_KEY: { section: 'storage.s3', key: 'secret_key' },
  MINIO_BUCKET: { section: 'storage.s3', key: 'bucket' },
};

export type ConfigValue = string | number | boolean;

export interface EnvOverride extends KeyRef {
  readonly envVar: string;
  readonly value: ConfigValue;
}

export interface EnvOverrides {
  /** At most one override per key, in a stable order. */
  readonly overrides: readonly EnvOverride[];
  readonly warnings: readonly string[];
}

/** A section's part of a variable name: `storage.s3` -> `storage_s3`. */
function envSectionName(section: string): string {
  return section.replaceAll('.', '_');
}

/** The generic variable name of a key: `server.port` -> `ARC_SERVER_PORT`. */
export function envVarName(section: string, key: string): string {
  return `${ENV_PREFIX}${envSectionName(section)}_${key}`.toUpperCase();
}

/** Section names hold no underscore but keys may; the longest matching section wins. */
function genericKeyRef(envVar: string): KeyRef | null {
  const rest = envVar.slice(ENV_PREFIX.length).toLowerCase();
  let match: KeyRef | null = null;
  for (const section of CONFIG_SECTIONS) {
    const name = envSectionName(section);
    if (!rest.startsWith(`${name}_`)) continue;
    if (match !== null && match.section.length >= section.length) continue;
    match = { section, key: rest.slice(name.length + 1) };
  }
  if (match === null || configKeyKind(match.section, match.key) === null) return null;
  return match;
}

function parseEnvValue(kind: ConfigKeyKind, text: string): ConfigValue | null {
  const trimmed = text.trim();
  switch (kind) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(trimmed)) return null;
      const value = Number(trimmed);
      return Number.isSafeInteger(value) ? value : null;
    }
    case 'number': {
      if (!/^[+-]?\d+(\.\d+)?$/.test(trimmed)) return null;
      return Number(trimmed);
    }
    case 'bool': {
      const lower = trimmed.toLowerCase();
      if (lower === 'true' || lower === '1') return true;
      if (lower === 'false' || lower === '0') return false;
      return null;
    }
    case 'string':
      return text;
  }
}

const KIND_EXPECTED: Readonly<Record<ConfigKeyKind, string>> = {
  int: 'an integer',
  number: 'a number',
  bool: 'true, false, 1 or 0',
  string: 'a string',
};

function toOverride(envVar: string, ref: KeyRef, text: string): EnvOverride {
  const kind = configKeyKind(ref.section, ref.key);
  assert.ok(kind !== null, 'every env override names an arc.conf key');
  const value = parseEnvValue(kind, text);
  if (value === null) {
    const dotted = `${ref.section}.${ref.key}`;
    throw new ConfigError(
      ConfigErrorCode.badValue,
      dotted,
      envVar,
      `Invalid value for ${envVar} (${dotted}): expected ${KIND_EXPECTED[kind]}, got ${JSON.stringify(text)}`,
    );
  }
  return { ...ref, envVar, value };
}

/** Reads every `ARC_*` variable: overrides for known keys, warnings for the rest. */
export function readEnvOverrides(env: NodeJS.ProcessEnv): EnvOverrides {
  const byKey = new Map<string, EnvOverride>();
  const warnings: string[] = [];
  const variables = Object.entries(env)
    .filter((variable): variable is [string, string] => variable[0].startsWith(ENV_PREFIX) && variable[0] !== CONFIG_PATH_ENV && variable[1] !== undefined)
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  const shortVariables = variables.filter(([name]) => Object.hasOwn(SHORT_ENV_NAMES, name));
  for (const [envVar, text] of variables) {
    if (Object.hasOwn(SHORT_ENV_NAMES, envVar)) continue;
    const ref = genericKeyRef(envVar);
    if (ref === null) {
      warnings.push(`Unknown environment variable ${envVar} ignored (no arc.conf key matches it)`);
      continue;
    }
    byKey.set(`${ref.section}.${ref.key}`, toOverride(envVar, ref, text));
  }
  // A short or earlier name is a fallback: the generic form of the same key wins when both are set.
  const fallbacks: [string, KeyRef, string][] = [];
  for (const [envVar, text] of shortVariables) {
    const ref = SHORT_ENV_NAMES[envVar];
    assert.ok(ref !== undefined);
    fallbacks.push([envVar, ref, text]);
  }
  for (const [envVar, ref] of Object.entries(SEED_ENV_NAMES)) {
    const text = env[envVar];
    if (text !== undefined) fallbacks.push([envVar, ref, text]);
  }
  for (const [envVar, ref, text] of fallbacks) {
    const dotted = `${ref.section}.${ref.key}`;
    const generic = byKey.get(dotted);
    if (generic !== undefined) {
      warnings.push(`${envVar} ignored: ${generic.envVar} also sets ${dotted} and takes precedence`);
      continue;
    }
    byKey.set(dotted, toOverride(envVar, ref, text));
  }
  return { overrides: [...byKey.values()], warnings };
}
