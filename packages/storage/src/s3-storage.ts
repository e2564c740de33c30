import assert from 'node:assert/strict';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Client, S3Error } from 'minio';
import type { S3Config } from '@arc/config';
import { ArcError, ErrorKind } from '@arc/errors';
import { StorageErrorCode } from './error-codes.js';
import { DOWNLOAD_SUFFIX, STAGING_SUFFIX, assertStorageKey } from './layout.js';
import { newStagingPath, sealStagedFile } from './staging.js';
import { LIST_PAGE_KEYS_MAX, S3_ATTEMPTS_MAX, S3_DELETE_BATCH_MAX, S3_RETRY_DELAY_MS_FIRST, S3_RETRY_DELAY_MS_MAX, S3_SOCKETS_MAX } from './limits.js';
import type { ByteRange, ListPage, ListedChildren, StorageBackend, StoredObject, VersionedObject } from './storage-backend.js';

/** Network failures worth another attempt (the server restarting, a connection dropped mid-request). */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);
/** S3 error codes that say "not now" rather than "never". */
const TRANSIENT_S3_CODES: ReadonlySet<string> = new Set(['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeTooSkewed']);

const RETRYABLE_STATUS_PATTERN = /Retryable HTTP status: (408|429|499|5\d\d)\b/;

function errorCodeOf(error: unknown): string | null {
  if (typeof error !== 'object' || error === null || !('code' in error)) return null;
  return typeof error.code === 'string' ? error.code : null;
}

function isNotFound(error: unknown): boolean {
  const code = errorCodeOf(error);
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchObject';
}

function isPreconditionFailed(error: unknown): boolean {
  const code = errorCodeOf(error);
  return code === 'PreconditionFailed' || (error instanceof S3Error && (error as S3Error & { amzStatusCode?: number }).amzStatusCode === 412);
}

/** True for a failure another attempt may not see: the network, throttling, a 5xx. */
export function isTransientS3Error(error: unknown): boolean {
  const code = errorCodeOf(error);
  if (code !== null && (TRANSIENT_NETWORK_CODES.has(code) || TRANSIENT_S3_CODES.has(code))) return true;
  const status = typeof error === 'object' && error !== null && 'amzStatusCode' in error ? Number(error.amzStatusCode) : NaN;
  if (status >= 500) return true;
  // The client reports 408, 429 and 5xx answers as a plain Error naming the status (its own
  // retries are off); Ceph RGW answers 500 to one of several writes racing for one key.
  return error instanceof Error && RETRYABLE_STATUS_PATTERN.test(error.message);
}

/** The error an operation gives up with: says what failed and where, never a secret. */
function unreachableError(operation: string, key: string, cause: unknown): ArcError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const code = errorCodeOf(cause);
  return new ArcError(ErrorKind.unavailable, StorageErrorCode.objectStoreUnavailable, `Object storage ${operation} of '${key}' failed: ${reason}${code === null ? '' : ` (${code})`}`, { operation, key });
}

/** The ETag a GET answered with, unquoted ('' when it carried none). */
function responseEtag(stream: Readable): string {
  return ((stream as Readable & { headers?: Record<string, string> }).headers?.etag ?? '').replace(/^"|"$/g, '');
}

/** A response stream's (or a body's) bytes, whole. */
async function bytesOf(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** The bytes as a Buffer over the same memory (what the client sends). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The bytes' SHA-256 in hex, computed on libuv's thread pool (WebCrypto runs its digests there):
 * a writer's thread, which also serves its encoder's scan, is not held for it.
 */
async function sha256HexOffThread(bytes: Buffer): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

/** Reads an answer to its end, so its keep-alive socket goes back to the pool. */
async function drained(response: Readable): Promise<void> {
  response.resume();
  await finished(response);
}

/**
 * An S3-compatible bucket (AWS S3, MinIO, Ceph RGW, GCS's XML API) through the `minio` client.
 * Keys live under the configured prefix. Files are staged on local disk inside the cache
 * directory (`<cacheDir>/<partition>/staged-*.tmp`): publishing uploads the whole file (multipart
 * above the part size), then renames it to its cache path, so the node that wrote a file reads it
 * without a download (write-through). Reads of data files go through the cache (locationOf is the
 * cache path; file-cache.ts fetches what is missing); small objects (schemas, manifests, leases)
 * are read from the bucket every time.
 *
 * Every request is tried up to S3_ATTEMPTS_MAX times with growing delays on transient failures,
 * then fails with ARC_OBJECT_STORE_UNAVAILABLE; callers that must not lose data (writers) retry
 * that themselves, keeping the rows buffered.
 */
export class S3Storage implements StorageBackend {
  readonly kind = 's3' as const;
  readonly nodeId: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly cacheDir: string;
  private readonly client: Client;
  private readonly partSizeBytes: number;
  /** Whether this store matches If-Match against the quoted ETag; null until a conditional write told. */
  private quotedIfMatch: boolean | null = null;

  constructor(config: S3Config, cacheDir: string, nodeId: string) {
    assert.ok(path.isAbsolute(cacheDir), 'the cache directory is absolute');
    this.nodeId = nodeId;
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.cacheDir = cacheDir;
    this.partSizeBytes = config.partSizeBytes;
    const agentOptions = { keepAlive: true, maxSockets: S3_SOCKETS_MAX };
    this.client = new Client({
      endPoint: config.endPoint,
      ...(config.port === null ? {} : { port: config.port }),
      useSSL: config.useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region,
      pathStyle: config.pathStyle,
      partSize: config.partSizeBytes,
      transportAgent: config.useSSL ? new https.Agent(agentOptions) : new http.Agent(agentOptions),
      // Retries are this class's (one policy for every call), not the client's.
      retryOptions: { disableRetry: true },
    });
  }

  private objectName(key: string): string {
    assertStorageKey(key);
    return `${this.prefix}${key}`;
  }

  /** The local path of a key's cached copy (file-cache.ts keeps it). */
  cachePathOf(key: string): string {
    assertStorageKey(key);
    return path.join(this.cacheDir, key);
  }

  locationOf(key: string): string {
    return this.cachePathOf(key);
  }

  /** Runs `operation`, again after a growing delay while it fails transiently, at most S3_ATTEMPTS_MAX times. */
  private async attempt<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    let delayMs = S3_RETRY_DELAY_MS_FIRST;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (!isTransientS3Error(error)) throw error;
        if (attempt >= S3_ATTEMPTS_MAX) throw unreachableError(operation, key, error);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs = Math.min(delayMs * 4, S3_RETRY_DELAY_MS_MAX);
      }
    }
  }

  /** Throws a clear error when the bucket cannot be reached with these credentials (the start's check). */
  async check(): Promise<void> {
    try {
      // A listing (GET) answers with an error body, unlike a HEAD: a missing bucket and refused keys are told apart.
      await this.attempt('check', '', () => this.client.listObjectsV2Query(this.bucket, this.prefix, '', '/', 1, ''));
    } catch (error) {
      if (error instanceof ArcError) throw error;
      const code = errorCodeOf(error);
      const hint =
        code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || code === 'AccessDenied'
          ? 'the access key or secret key is wrong, or lacks access to the bucket'
          : code === 'NoSuchBucket'
            ? `the bucket '${this.bucket}' does not exist`
            : 'see the cause';
      throw new ArcError(ErrorKind.unavailable, StorageErrorCode.objectStoreRefused, `Object storage refused access to bucket '${this.bucket}' (${code ?? 'error'}): ${hint}: ${(error as Error).message}`, { bucket: this.bucket });
    }
  }

  async list(prefix: string, continuationToken: string | null, limit: number): Promise<ListPage> {
    assert.ok(Number.isInteger(limit) && limit > 0 && limit <= LIST_PAGE_KEYS_MAX, 'a page holds 1 to 1,000 keys');
    const result = await this.attempt('list', prefix, () => this.client.listObjectsV2Query(this.bucket, `${this.prefix}${prefix}`, continuationToken ?? '', '', limit, ''));
    const objects: StoredObject[] = [];
    for (const item of result.objects) if (item.name !== undefined) objects.push({ key: item.name.slice(this.prefix.length), size: item.size });
    return { objects, continuationToken: result.isTruncated && result.nextContinuationToken !== '' ? result.nextContinuationToken : null };
  }

  async listChildren(prefix: string): Promise<ListedChildren> {
    assert.ok(prefix === '' || prefix.endsWith('/'), 'listings take directory prefixes');
    const full = `${this.prefix}${prefix}`;
    const directories: string[] = [];
    const objects: string[] = [];
    let token = '';
    do {
      const result = await this.attempt('list', prefix, () => this.client.listObjectsV2Query(this.bucket, full, token, '/', LIST_PAGE_KEYS_MAX, ''));
      for (const item of result.objects) {
        if (item.prefix !== undefined && item.prefix !== '') directories.push(item.prefix.slice(full.length).replace(/\/$/, ''));
        else if (item.name !== undefined) objects.push(item.name.slice(full.length));
      }
      token = result.isTruncated ? result.nextContinuationToken : '';
    } while (token !== '');
    return { directories: directories.sort(), objects: objects.sort() };
  }

  private async statOf(key: string): Promise<{ size: number; lastModified: Date; etag: string } | null> {
    try {
      return await this.attempt('stat', key, () => this.client.statObject(this.bucket, this.objectName(key)));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async modifiedAtMs(key: string): Promise<number | null> {
    return (await this.statOf(key))?.lastModified.getTime() ?? null;
  }

  async sizeOf(key: string): Promise<number | null> {
    return (await this.statOf(key))?.size ?? null;
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const name = this.objectName(key);
    if (range === undefined) return await this.attempt('get', key, async () => await bytesOf(await this.client.getObject(this.bucket, name)));
    assert.ok(range.start >= 0 && range.end >= range.start, 'a byte range is ordered');
    return await this.attempt('get', key, async () => await bytesOf(await this.client.getPartialObject(this.bucket, name, range.start, range.end - range.start + 1)));
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    const name = this.objectName(key);
    try {
      return await this.attempt('get', key, async () => {
        const stream = await this.client.getObject(this.bucket, name);
        const etag = responseEtag(stream);
        const bytes = await bytesOf(stream);
        // An ETag the response did not carry: the object's own, from a stat (RGW leaves some empty).
        return { bytes, version: etag !== '' ? etag : ((await this.statOf(key))?.etag ?? '') };
      });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    const name = this.objectName(key);
    const bytes = body instanceof Uint8Array ? asBuffer(body) : await bytesOf(body);
    await this.attempt('put', key, async () => {
      if (bytes.length <= this.partSizeBytes) await this.putWhole(name, bytes, {});
      else await this.client.putObject(this.bucket, name, bytes, bytes.length);
    });
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    return await this.conditionalPut(key, body, { 'If-None-Match': '*' });
  }

  async putIfVersion(key: string, body: Uint8Array, version: string): Promise<boolean> {
    assert.ok(version !== '', 'a version to match');
    // Ceph RGW 16 matches only the bare ETag (a quoted one never matches there); HTTP writes it
    // quoted, as AWS S3 documents it. The form this store matches is learned once: a refusal while
    // the object is still at `version` means the form was wrong, and the other one is tried.
    const forms = this.quotedIfMatch === true ? [`"${version}"`] : this.quotedIfMatch === false ? [version] : [version, `"${version}"`];
    for (const form of forms) {
      if (await this.conditionalPut(key, body, { 'If-Match': form })) {
        this.quotedIfMatch = form.startsWith('"');
        return true;
      }
      const current = await this.statOf(key);
      // Another write came between (or the object went): a real refusal, in either form.
      if (current?.etag !== version) return false;
    }
    return false;
  }

  /** A PUT the store refuses with 412 when its condition fails (If-None-Match / If-Match). */
  private async conditionalPut(key: string, body: Uint8Array, condition: Record<string, string>): Promise<boolean> {
    const name = this.objectName(key);
    const bytes = asBuffer(body);
    try {
      await this.attempt('put', key, () => this.putWhole(name, bytes, condition));
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw error;
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    // One DeleteObjects request per batch, in turn; its quiet answer lists only the keys that
    // failed (a missing key is no failure: S3 answers it as deleted).
    for (let start = 0; start < keys.length; start += S3_DELETE_BATCH_MAX) {
      const batch = keys.slice(start, start + S3_DELETE_BATCH_MAX);
      const names = batch.map((key) => this.objectName(key));
      const results = await this.attempt('delete', batch[0] ?? '', () => this.client.removeObjects(this.bucket, names));
      const failed = results.find((result) => typeof result === 'object' && result !== null && 'Code' in result && (result as { Code?: string }).Code !== 'NoSuchKey');
      if (failed !== undefined) throw unreachableError('delete', String((failed as { Key?: string }).Key ?? batch[0]), new Error(JSON.stringify(failed)));
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    assert.ok(prefix.endsWith('/') && prefix.length > 1, 'a directory prefix, never the root');
    for (;;) {
      const page = await this.list(prefix, null, LIST_PAGE_KEYS_MAX);
      if (page.objects.length === 0) return;
      const names = page.objects.map((object) => this.objectName(object.key));
      await this.attempt('delete', prefix, () => this.client.removeObjects(this.bucket, names));
    }
  }

  async stagingPathIn(directoryKey: string): Promise<string> {
    return await newStagingPath(this.cachePathOf(directoryKey));
  }

  async sealStaged(stagingPath: string): Promise<number> {
    return await sealStagedFile(stagingPath);
  }

  /**
   * One PUT of the whole object, checked by the store as the client's putObject has it checked:
   * over plain HTTP the request signs the body's SHA-256 (the store answers
   * XAmzContentSHA256Mismatch to other bytes), over HTTPS it carries their Content-MD5 (BadDigest)
   * with an unsigned payload. Unlike putObject, the SHA-256 is computed off this thread, no MD5
   * goes unsent beside it, and the bytes are sent as given, not copied twice first.
   */
  private async putWhole(name: string, bytes: Buffer, headers: Readonly<Record<string, string>>): Promise<void> {
    const signsPayload = this.client.enableSHA256;
    const payloadSha256 = signsPayload ? await sha256HexOffThread(bytes) : '';
    const contentMd5: Record<string, string> = signsPayload ? {} : { 'Content-MD5': createHash('md5').update(bytes).digest('base64') };
    const request = { method: 'PUT', bucketName: this.bucket, objectName: name, headers: { ...headers, ...contentMd5, 'Content-Length': String(bytes.length) } };
    // Region '': the configured one (the client asks the store only when none is configured).
    await drained(await this.client.makeRequestStreamAsync(request, bytes, payloadSha256, [200], ''));
  }

  /**
   * Uploads the staged file under `key` (the same key on every attempt, so a retry after a lost
   * answer overwrites the same object: never a second copy), then keeps it as the key's cached
   * copy. The store checks the bytes it received (putWhole; the client's multipart upload signs
   * each part's SHA-256 over plain HTTP and sends its Content-MD5).
   */
  async publish(stagingPath: string, key: string): Promise<void> {
    assert.ok(stagingPath.endsWith(STAGING_SUFFIX), 'only staged files are published');
    const name = this.objectName(key);
    const { size } = await stat(stagingPath);
    await this.attempt('upload', key, async () => {
      if (size <= this.partSizeBytes) {
        await this.putWhole(name, await readFile(stagingPath), {});
      } else {
        await this.client.putObject(this.bucket, name, createReadStream(stagingPath), size);
      }
    });
    const cached = this.cachePathOf(key);
    await mkdir(path.dirname(cached), { recursive: true });
    await rename(stagingPath, cached);
  }

  async discard(stagingPath: string): Promise<void> {
    assert.ok(stagingPath.endsWith(STAGING_SUFFIX), 'only staged files are discarded');
    await rm(stagingPath, { force: true });
  }

  /**
   * Downloads `key` to `destination` (written to a temporary name, then renamed) and returns its
   * size. The bytes are checked against the object's ETag when that is an MD5 (a single-part
   * upload), else against the expected size.
   */
  async download(key: string, destination: string, expectedBytes: number | null): Promise<number> {
    const name = this.objectName(key);
    await mkdir(path.dirname(destination), { recursive: true });
    const temporary = `${destination}.${randomBytes(6).toString('hex')}${DOWNLOAD_SUFFIX}`;
    try {
      return await this.attempt('download', key, async () => {
        const stream = await this.client.getObject(this.bucket, name);
        const etag = responseEtag(stream);
        const md5 = createHash('md5');
        const handle = await open(temporary, 'w');
        let size = 0;
        try {
          for await (const chunk of stream) {
            const buffer = chunk as Buffer;
            md5.update(buffer);
            size += buffer.length;
            await handle.write(buffer);
          }
        } finally {
          await handle.close();
        }
        const digest = md5.digest('hex');
        if (/^[0-9a-f]{32}$/.test(etag) && etag !== digest) throw new ArcError(ErrorKind.unavailable, StorageErrorCode.cacheChecksum, `Downloaded '${key}' does not match its checksum (MD5 ${digest}, ETag ${etag})`, { key });
        if (expectedBytes !== null && size !== expectedBytes) throw new ArcError(ErrorKind.unavailable, StorageErrorCode.cacheChecksum, `Downloaded '${key}' has ${size} bytes, its name says ${expectedBytes}`, { key });
        await rename(temporary, destination);
        return size;
      });
    } catch (error) {
      await rm(temporary, { force: true });
      if (isNotFound(error)) throw new ArcError(ErrorKind.conflict, StorageErrorCode.objectGone, `'${key}' is not in the bucket any more (compacted or deleted meanwhile): run the query again`, { key });
      throw error;
    }
  }
}
