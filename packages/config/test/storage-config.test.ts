// Proves that [storage] backend = "s3" | "minio" | "gcs" resolves endpoints, presets and credentials
// from arc.conf, ARC_STORAGE_S3_*, the earlier Arc's MINIO_* / STORAGE_BACKEND and AWS_* names,
// and that a missing bucket or key stops the start naming it; by loading real files and environments.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../src/index.js';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'arc-storage-config-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

function withFile(text: string, env: NodeJS.ProcessEnv = {}) {
  writeFileSync(join(cwd, 'arc.conf'), text);
  return loadConfig({ env, cwd });
}

describe('[storage.s3]', () => {
  it('reads the nested table, path style and http from a MinIO endpoint', () => {
    const config = withFile('[storage]\nbackend = "minio"\ncache_max_gb = 0.5\n[storage.s3]\nendpoint = "http://127.0.0.1:9000"\nbucket = "arc"\nprefix = "/prod/"\naccess_key = "AK"\nsecret_key = "SK"\n');
    expect(config.storage.s3).toEqual({ endPoint: '127.0.0.1', port: 9000, useSSL: false, region: 'us-east-1', bucket: 'arc', prefix: 'prod/', accessKey: 'AK', secretKey: 'SK', pathStyle: true, partSizeBytes: 64 * 1024 * 1024 });
    expect(config.storage.cacheMaxBytes).toBe(500_000_000);
    expect(config.storage.cacheDir).toBe(join(cwd, 'data', 'cache'));
  });

  it('takes the AWS preset, AWS_* credentials and region when the file leaves them out', () => {
    const config = withFile('[storage]\nbackend = "s3"\n[storage.s3]\nbucket = "b"\n', { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S', AWS_REGION: 'eu-west-1' });
    expect(config.storage.s3).toMatchObject({ endPoint: 's3.eu-west-1.amazonaws.com', port: null, useSSL: true, region: 'eu-west-1', accessKey: 'A', secretKey: 'S', pathStyle: false });
  });

  it('takes the GCS preset', () => {
    const config = withFile('[storage]\nbackend = "gcs"\n[storage.s3]\nbucket = "b"\naccess_key = "GOOG1"\nsecret_key = "s"\n');
    expect(config.storage.s3).toMatchObject({ endPoint: 'storage.googleapis.com', useSSL: true, region: 'auto' });
  });

  it('reads the earlier Arc environment names; ARC_* wins over them', () => {
    const env = { STORAGE_BACKEND: 'minio', MINIO_ENDPOINT: 'minio:9000', MINIO_ACCESS_KEY: 'old', MINIO_SECRET_KEY: 'sk', MINIO_BUCKET: 'arc', ARC_STORAGE_S3_ACCESS_KEY: 'new', ARC_NODE_ID: 'node-a' };
    const config = loadConfig({ env, cwd });
    expect(config.storage.backend).toBe('minio');
    expect(config.storage.s3).toMatchObject({ endPoint: 'minio', port: 9000, useSSL: false, bucket: 'arc', accessKey: 'new', secretKey: 'sk' });
    expect(config.storage.nodeId).toBe('node-a');
    expect(config.warnings.join('\n')).toContain('MINIO_ACCESS_KEY ignored: ARC_STORAGE_S3_ACCESS_KEY also sets storage.s3.access_key');
  });

  it('parses numbers with a fraction from the environment', () => {
    expect(loadConfig({ env: { ARC_STORAGE_CACHE_MAX_GB: '0.25' }, cwd }).storage.cacheMaxBytes).toBe(250_000_000);
    expect(() => loadConfig({ env: { ARC_STORAGE_CACHE_MAX_GB: 'lots' }, cwd })).toThrow(/ARC_STORAGE_CACHE_MAX_GB \(storage.cache_max_gb\): expected a number/);
  });

  it('stops naming the bucket, the credentials or a bad endpoint', () => {
    expect(() => withFile('[storage]\nbackend = "s3"\n')).toThrow(/needs storage\.s3\.bucket/);
    expect(() => withFile('[storage]\nbackend = "s3"\n[storage.s3]\nbucket = "b"\n')).toThrow(/needs credentials/);
    const error = (() => {
      try {
        withFile('[storage]\nbackend = "minio"\n[storage.s3]\nbucket = "b"\nendpoint = "ftp://x/y"\naccess_key = "a"\nsecret_key = "s"\n');
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('storage.s3.endpoint');
    expect(() => withFile('[storage.s3]\nbuckett = "b"\n')).toThrow(/Unknown key 'storage\.s3\.buckett'/);
  });

  it('never puts the secret key in the start line', () => {
    const config = withFile('[storage]\nbackend = "minio"\n[storage.s3]\nendpoint = "http://h:1"\nbucket = "b"\naccess_key = "AKEY"\nsecret_key = "TOP-SECRET"\n');
    const line = describeConfig(config);
    expect(line).toContain('storage=minio:http://h:1/b/');
    expect(line).not.toContain('TOP-SECRET');
  });
});
