// Proves that loadConfig layers defaults, arc.conf and ARC_* variables in that order and stops on any unknown or bad setting with a ConfigError naming it, by loading real files from temporary directories.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ConfigErrorCode, describeConfig, loadConfig } from '../src/index.js';

const SHIPPED_CONF = fileURLToPath(new URL('../../../arc.conf', import.meta.url));

let cwd: string;

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'arc-config-'));
});

afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

function writeConf(text: string, name = 'arc.conf'): string {
  const path = join(cwd, name);
  writeFileSync(path, text);
  return path;
}

/** Runs `load` and returns the ConfigError it throws (failing the test if it does not throw one). */
function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('uses every default when there is no arc.conf and no ARC_* variable', () => {
    const config = loadConfig({ env: {}, cwd });
    expect(config.configPath).toBeNull();
    expect(config.warnings).toEqual([]);
    expect(config.server).toEqual({
      host: '0.0.0.0',
      port: 8000,
      bodyMaxMb: 100,
      bodyBytesMax: 100 * 1024 * 1024,
      shutdownTimeoutSeconds: 30,
      shutdownFlushRetrySeconds: 30,
    });
    expect(config.storage).toEqual({
      backend: 'local',
      s3: null,
      cacheMaxBytes: 10e9,
      cacheDir: join(cwd, 'data', 'cache'),
      listingRefreshMs: 5000,
      nodeId: null,
      dataDir: join(cwd, 'data'),
      parquetRoot: join(cwd, 'data', 'arc'),
      metadataPath: join(cwd, 'data', 'arc.db'),
    });
    expect(config.ingest).toEqual({
      decoders: Math.min(256, 3 * availableParallelism()),
      ringMb: 8,
      ringBytes: 8 * 1024 * 1024,
      defaultHost: 'unknown',
      decoderNice: 15,
      measurementsPerRequestMax: 1000,
      measurementsPerDatabaseMax: 10_000,
      // 16 bodies of server.body_max_mb (100 MiB).
      inFlightBytesMax: 1600 * 1024 * 1024,
      waitMsMax: 4000,
    });
    expect(config.writer).toEqual({
      threads: 2,
      flushRows: 50_000,
      flushBytesMb: 64,
      flushBytesMax: 64 * 1024 * 1024,
      flushAgeMs: 5000,
      bufferMaxMb: 1024,
      bufferBytesMax: 1024 * 1024 * 1024,
      compression: 'snappy',
      rowGroupSize: 122_880,
      duckdbThreads: 1,
    });
    expect(config.query).toEqual({
      threads: 2,
      duckdbThreads: 2,
      memoryLimit: '2GB',
      memoryLimitBytes: 2_000_000_000,
      timeoutSeconds: 300,
      queueMax: 64,
      maxRows: 5_000_000,
      slowQueryMs: 1000,
      seriesCacheBytes: 128 * 1024 * 1024,
    });
    expect(config.queryCache).toEqual({ enabled: true, ttlSeconds: 60, maxSize: 1000, maxResultMb: 10 });
    expect(config.auth).toEqual({ enabled: true, bootstrapToken: '', cacheTtlSeconds: 30 });
    expect(config.log).toEqual({ level: 'info', format: 'auto', ringLines: 1000 });
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({ env: {}, cwd });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.warnings)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('the shipped arc.conf parses and equals the defaults', () => {
    const fromShipped = loadConfig({ env: {}, cwd, configPath: SHIPPED_CONF });
    const fromDefaults = loadConfig({ env: {}, cwd });
    expect(fromShipped.configPath).toBe(SHIPPED_CONF);
    expect({ ...fromShipped, configPath: null }).toEqual(fromDefaults);
  });
});

describe('file values', () => {
  it('reads <cwd>/arc.conf and maps snake_case keys to camelCase', () => {
    const path = writeConf(`
[server]
host = "127.0.0.1"
port = 9100
body_max_mb = 10
[storage]
data_dir = "/var/lib/arc"
[ingest]
decoders = 4
ring_mb = 16
default_host = "edge"
decoder_nice = 0
[writer]
flush_age_ms = 1000
compression = "zstd"
[query]
memory_limit = "512MiB"
[auth]
enabled = false
[log]
level = "debug"
format = "json"
`);
    const config = loadConfig({ env: {}, cwd });
    expect(config.configPath).toBe(path);
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.server.port).toBe(9100);
    expect(config.server.bodyBytesMax).toBe(10 * 1024 * 1024);
    expect(config.storage.dataDir).toBe('/var/lib/arc');
    expect(config.storage.parquetRoot).toBe('/var/lib/arc/arc');
    expect(config.ingest).toEqual({ decoders: 4, ringMb: 16, ringBytes: 16 * 1024 * 1024, defaultHost: 'edge', decoderNice: 0, measurementsPerRequestMax: 1000, measurementsPerDatabaseMax: 10_000, inFlightBytesMax: 16 * 10 * 1024 * 1024, waitMsMax: 4000 });
    expect(config.writer.flushAgeMs).toBe(1000);
    expect(config.writer.compression).toBe('zstd');
    expect(config.writer.flushRows).toBe(50_000);
    expect(config.query.memoryLimitBytes).toBe(512 * 1024 * 1024);
    expect(config.auth.enabled).toBe(false);
    expect(config.log).toEqual({ level: 'debug', format: 'json', ringLines: 1000 });
  });

  it('resolves a relative data_dir against cwd', () => {
    writeConf('[storage]\ndata_dir = "var/arc-data"\n');
    const config = loadConfig({ env: {}, cwd });
    expect(config.storage.dataDir).toBe(join(cwd, 'var', 'arc-data'));
    expect(config.storage.metadataPath).toBe(join(cwd, 'var', 'arc-data', 'arc.db'));
  });
});

describe('write back-pressure', () => {
  it('holds 16 of the largest bodies unless ingest.in_flight_max_mb says otherwise, and waits 4 s by default', () => {
    writeConf('[server]\nbody_max_mb = 8\n');
    expect(loadConfig({ env: {}, cwd }).ingest).toMatchObject({ inFlightBytesMax: 128 * 1024 * 1024, waitMsMax: 4000 });
    writeConf('[server]\nbody_max_mb = 8\n[ingest]\nin_flight_max_mb = 2\nwait_max_ms = 250\n');
    expect(loadConfig({ env: {}, cwd }).ingest).toMatchObject({ inFlightBytesMax: 2 * 1024 * 1024, waitMsMax: 250 });
    const fromEnv = loadConfig({ env: { ARC_INGEST_IN_FLIGHT_MAX_MB: '3', ARC_INGEST_WAIT_MAX_MS: '100' }, cwd });
    expect(fromEnv.ingest).toMatchObject({ inFlightBytesMax: 3 * 1024 * 1024, waitMsMax: 100 });
  });

  it('refuses a wait or a bound out of range, naming the key', () => {
    writeConf('[ingest]\nwait_max_ms = 0\n');
    expect(() => loadConfig({ env: {}, cwd })).toThrow(/ingest\.wait_max_ms/);
    writeConf('[ingest]\nin_flight_max_mb = 0\n');
    expect(() => loadConfig({ env: {}, cwd })).toThrow(/ingest\.in_flight_max_mb/);
  });
});

describe('environment', () => {
  it('env beats file, file beats defaults', () => {
    writeConf('[server]\nport = 9100\nhost = "127.0.0.1"\n[writer]\nflush_age_ms = 1000\n');
    const config = loadConfig({ env: { ARC_SERVER_PORT: '9200', ARC_WRITER_FLUSH_AGE_MS: '250' }, cwd });
    expect(config.server.port).toBe(9200);
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.writer.flushAgeMs).toBe(250);
    expect(config.writer.flushRows).toBe(50_000);
  });

  it('sets how long a stop retries a failing flush from arc.conf or ARC_SERVER_SHUTDOWN_FLUSH_RETRY_SECONDS', () => {
    writeConf('[server]\nshutdown_flush_retry_seconds = 120\n');
    expect(loadConfig({ env: {}, cwd }).server.shutdownFlushRetrySeconds).toBe(120);
    expect(loadConfig({ env: { ARC_SERVER_SHUTDOWN_FLUSH_RETRY_SECONDS: '0' }, cwd }).server.shutdownFlushRetrySeconds).toBe(0);
    const error = configError(() => loadConfig({ env: { ARC_SERVER_SHUTDOWN_FLUSH_RETRY_SECONDS: '3601' }, cwd }));
    expect(error.message).toContain('server.shutdown_flush_retry_seconds');
  });

  it('parses every kind of key: int, bool (true/false/1/0), string, enum', () => {
    const env = {
      ARC_AUTH_ENABLED: '0',
      ARC_AUTH_CACHE_TTL_SECONDS: '5',
      ARC_AUTH_BOOTSTRAP_TOKEN: 'preset-token-value',
      ARC_INGEST_DEFAULT_HOST: 'h1',
      ARC_WRITER_COMPRESSION: 'gzip',
      ARC_LOG_FORMAT: 'json',
    };
    const config = loadConfig({ env, cwd });
    expect(config.auth).toEqual({ enabled: false, bootstrapToken: 'preset-token-value', cacheTtlSeconds: 5 });
    expect(config.ingest.defaultHost).toBe('h1');
    expect(config.writer.compression).toBe('gzip');
    expect(config.log.format).toBe('json');
    expect(loadConfig({ env: { ARC_AUTH_ENABLED: 'TRUE' }, cwd }).auth.enabled).toBe(true);
  });

  it('accepts the short names ARC_HOST, ARC_PORT, ARC_WORKERS, ARC_DATA_DIR', () => {
    const env = { ARC_HOST: '10.0.0.1', ARC_PORT: '9000', ARC_WORKERS: '5', ARC_DATA_DIR: 'd' };
    const config = loadConfig({ env, cwd });
    expect(config.server.host).toBe('10.0.0.1');
    expect(config.server.port).toBe(9000);
    expect(config.ingest.decoders).toBe(5);
    expect(config.storage.dataDir).toBe(join(cwd, 'd'));
    expect(config.warnings).toEqual([]);
  });

  it('lets the generic name win over a short name, with a warning', () => {
    const config = loadConfig({ env: { ARC_PORT: 'not-even-a-number', ARC_SERVER_PORT: '9001' }, cwd });
    expect(config.server.port).toBe(9001);
    expect(config.warnings).toEqual(['ARC_PORT ignored: ARC_SERVER_PORT also sets server.port and takes precedence']);
  });

  it('ignores unknown ARC_* variables but reports them in warnings', () => {
    const config = loadConfig({ env: { ARC_SERVER_PROT: '1', ARC_NOPE: 'x', HOME: '/root' }, cwd });
    expect(config.server.port).toBe(8000);
    expect(config.warnings).toHaveLength(2);
    expect(config.warnings.join('\n')).toContain('ARC_NOPE');
    expect(config.warnings.join('\n')).toContain('ARC_SERVER_PROT');
  });

  it('a value that does not parse as the key type names the variable', () => {
    const error = configError(() => loadConfig({ env: { ARC_SERVER_PORT: '80a' }, cwd }));
    expect(error.code).toBe(ConfigErrorCode.badValue);
    expect(error.key).toBe('server.port');
    expect(error.source).toBe('ARC_SERVER_PORT');
    expect(error.message).toBe('Invalid value for ARC_SERVER_PORT (server.port): expected an integer, got "80a"');
    const bool = configError(() => loadConfig({ env: { ARC_AUTH_ENABLED: 'yes' }, cwd }));
    expect(bool.message).toContain('ARC_AUTH_ENABLED');
  });

  it('a value out of range names the variable, not the file', () => {
    writeConf('[server]\nport = 9100\n');
    const error = configError(() => loadConfig({ env: { ARC_PORT: '70000' }, cwd }));
    expect(error.source).toBe('ARC_PORT');
    expect(error.message).toBe('Invalid value for ARC_PORT (server.port): expected an integer from 1 to 65535, got 70000');
    const level = configError(() => loadConfig({ env: { ARC_LOG_LEVEL: 'loud' }, cwd }));
    expect(level.message).toContain('ARC_LOG_LEVEL');
    expect(level.message).toContain('"debug", "info", "warn", "error"');
  });
});

describe('bad files', () => {
  it('an unknown key stops the start naming it', () => {
    writeConf('[server]\nprot = 8000\n');
    const error = configError(() => loadConfig({ env: {}, cwd }));
    expect(error.code).toBe(ConfigErrorCode.unknownKey);
    expect(error.key).toBe('server.prot');
    expect(error.message).toMatch(/^Unknown key 'server\.prot' in arc\.conf/);
  });

  it('an unknown section stops the start naming it', () => {
    writeConf('[servr]\nport = 8000\n');
    const error = configError(() => loadConfig({ env: {}, cwd }));
    expect(error.key).toBe('servr');
    expect(error.message).toMatch(/^Unknown section 'servr' in arc\.conf/);
  });

  it('a key outside any section is unknown', () => {
    writeConf('port = 8000\n');
    expect(configError(() => loadConfig({ env: {}, cwd })).message).toMatch(/^Unknown key 'port' in arc\.conf/);
  });

  it.each([
    ['[server]\nport = "8000"\n', 'server.port', 'expected an integer from 1 to 65535, got "8000"'],
    ['[server]\nport = 0\n', 'server.port', 'expected an integer from 1 to 65535, got 0'],
    ['[server]\nport = 80.5\n', 'server.port', 'expected an integer from 1 to 65535, got 80.5'],
    ['[storage]\nbackend = "hdfs"\n', 'storage.backend', 'expected one of "local", "s3", "minio", "gcs", got "hdfs"'],
    ['[ingest]\nring_mb = 3\n', 'ingest.ring_mb', 'expected a power of two from 1 to 1024, got 3'],
    ['[ingest]\nring_mb = 2048\n', 'ingest.ring_mb', 'got 2048'],
    ['[writer]\ncompression = "lz4"\n', 'writer.compression', 'expected one of "snappy", "zstd", "gzip", "uncompressed"'],
    ['[writer]\nflush_bytes_mb = 2048\n', 'writer.flush_bytes_mb', 'expected at most writer.buffer_max_mb (1024), got 2048'],
    ['[query]\nmemory_limit = 2\n', 'query.memory_limit', 'got 2'],
    ['[query]\nmemory_limit = "lots"\n', 'query.memory_limit', 'got "lots"'],
    ['[auth]\nenabled = "yes"\n', 'auth.enabled', 'expected true or false, got "yes"'],
    ['[log]\nlevel = "verbose"\n', 'log.level', 'got "verbose"'],
    ['[log]\nformat = "pretty"\n', 'log.format', 'expected one of "auto", "text", "json"'],
    ['[log]\nring_lines = 100001\n', 'log.ring_lines', 'got 100001'],
    ['[query]\nslow_query_ms = -1\n', 'query.slow_query_ms', 'got -1'],
    ['[query]\nseries_cache_mb = -1\n', 'query.series_cache_mb', 'got -1'],
    ['[query]\nseries_cache_mb = 65537\n', 'query.series_cache_mb', 'got 65537'],
    ['server = 8000\n', 'server', 'expected a table ([server]), got 8000'],
  ])('a bad value names the key and what was expected: %j', (text, key, expected) => {
    writeConf(text);
    const error = configError(() => loadConfig({ env: {}, cwd }));
    expect(error.code).toBe(ConfigErrorCode.badValue);
    expect(error.key).toBe(key);
    expect(error.message).toContain(`'${key}' in arc.conf`);
    expect(error.message).toContain(expected);
  });

  it('a TOML syntax error names the file and the line', () => {
    writeConf('[server]\nport = \n');
    const error = configError(() => loadConfig({ env: {}, cwd }));
    expect(error.code).toBe(ConfigErrorCode.badFile);
    expect(error.message).toMatch(/^Invalid TOML in arc\.conf at line 2/);
  });
});

describe('locating the file', () => {
  it('ARC_CONFIG names the file, relative to cwd', () => {
    mkdirSync(join(cwd, 'etc'));
    const path = writeConf('[server]\nport = 9300\n', join('etc', 'other.conf'));
    writeConf('[server]\nport = 9400\n');
    const config = loadConfig({ env: { ARC_CONFIG: 'etc/other.conf' }, cwd });
    expect(config.configPath).toBe(path);
    expect(config.server.port).toBe(9300);
    expect(config.warnings).toEqual([]);
  });

  it('options.configPath wins over ARC_CONFIG', () => {
    const chosen = writeConf('[server]\nport = 9500\n', 'chosen.conf');
    const config = loadConfig({ env: { ARC_CONFIG: join(cwd, 'missing.conf') }, cwd, configPath: chosen });
    expect(config.server.port).toBe(9500);
  });

  it('a missing file named by configPath or ARC_CONFIG is an error', () => {
    const byOption = configError(() => loadConfig({ env: {}, cwd, configPath: 'nope.conf' }));
    expect(byOption.code).toBe(ConfigErrorCode.badFile);
    expect(byOption.key).toBe('configPath');
    expect(byOption.message).toContain(join(cwd, 'nope.conf'));
    const byEnv = configError(() => loadConfig({ env: { ARC_CONFIG: '/nonexistent/arc.conf' }, cwd }));
    expect(byEnv.key).toBe('ARC_CONFIG');
    expect(byEnv.message).toContain('/nonexistent/arc.conf');
  });
});

describe('describeConfig', () => {
  it('is one line that never shows the bootstrap token', () => {
    const secret = 'super-secret-bootstrap-token';
    const config = loadConfig({ env: { ARC_AUTH_BOOTSTRAP_TOKEN: secret, ARC_PORT: '9000' }, cwd });
    const line = describeConfig(config);
    expect(line).not.toContain('\n');
    expect(line).not.toContain(secret);
    expect(line).toContain('0.0.0.0:9000');
    expect(line).toContain(join(cwd, 'data'));
  });
});

describe('import.secret_key', () => {
  const hex = 'a1'.repeat(32);

  it('is null when empty, and taken as hex or base64 of 32 bytes (from arc.conf or ARC_IMPORT_SECRET_KEY)', () => {
    expect(loadConfig({ env: {}, cwd }).import).toEqual({ secretKeyHex: null });
    expect(loadConfig({ env: { ARC_IMPORT_SECRET_KEY: hex.toUpperCase() }, cwd }).import.secretKeyHex).toBe(hex);
    writeConf(`[import]\nsecret_key = "${Buffer.from(hex, 'hex').toString('base64')}"\n`);
    expect(loadConfig({ env: {}, cwd }).import.secretKeyHex).toBe(hex);
  });

  it.each([['a1'.repeat(31)], [Buffer.alloc(31, 7).toString('base64')], ['not a key at all']])('refuses %j naming the key, without quoting the value', (value) => {
    const error = configError(() => loadConfig({ env: { ARC_IMPORT_SECRET_KEY: value }, cwd }));
    expect(error.code).toBe(ConfigErrorCode.badValue);
    expect(error.key).toBe('import.secret_key');
    expect(error.message).toContain('32 bytes');
    expect(error.message).not.toContain(value);
  });
});
