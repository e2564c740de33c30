import type { StorageBackend } from '@arc/storage';

/**
 * A partition's lock, kept as an object in the store so that every node sharing it sees it
 * (`<database>/<measurement>/_locks/<YYYY-MM-DD>.json`: holder and expiry). Taken with
 * put-if-absent; a lock whose lease ran out (its job died, or its node) is taken over. The holder
 * renews it while its job runs and checks it still holds it right before committing, so a job
 * that lost its lease (stalled past it) never commits beside the job that took over.
 */
const LOCKS_DIRECTORY = '_locks';
/** A release with less of the lease left than this leaves the lock to expire (see release()). */
const RELEASE_MARGIN_MS = 5000;

interface LeaseBody {
  readonly node: string;
  readonly job: string;
  readonly expiresAtMs: number;
}

function lockKey(database: string, measurement: string, dayPath: string): string {
  return `${database}/${measurement}/${LOCKS_DIRECTORY}/${dayPath.replaceAll('/', '-')}.json`;
}

function encode(body: LeaseBody): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(body));
}

function decode(bytes: Uint8Array): LeaseBody | null {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LeaseBody>;
    if (typeof parsed.node !== 'string' || typeof parsed.job !== 'string' || typeof parsed.expiresAtMs !== 'number') return null;
    return { node: parsed.node, job: parsed.job, expiresAtMs: parsed.expiresAtMs };
  } catch {
    return null;
  }
}

/** Who holds a lock that could not be taken, and until when. */
export interface LeaseHolder {
  readonly node: string;
  readonly job: string;
  readonly expiresAtMs: number;
}

export class PartitionLease {
  private readonly backend: StorageBackend;
  private readonly key: string;
  private readonly jobId: string;
  private readonly leaseMs: number;
  private readonly nowMs: () => number;
  /** The lock object's version as this job last wrote it: renewals and the release are conditional on it. */
  private version: string | null = null;

  private constructor(backend: StorageBackend, key: string, jobId: string, leaseMs: number, nowMs: () => number) {
    this.backend = backend;
    this.key = key;
    this.jobId = jobId;
    this.leaseMs = leaseMs;
    this.nowMs = nowMs;
  }

  /**
   * Takes the lock of the day `dayPath` (`YYYY/MM/DD`) for `jobId`, or says who holds it. Every
   * write is conditional (docs/decisions.md, "Partition leases on object storage"): a new lock
   * with If-None-Match: *, a takeover of an expired one with If-Match on the version read, so of
   * two nodes racing for one partition exactly one gets it, on S3 as on local disk.
   */
  static async acquire(
    backend: StorageBackend,
    target: { readonly database: string; readonly measurement: string; readonly dayPath: string; readonly jobId: string },
    leaseMs: number,
    nowMs: () => number,
    /** True for a holder known dead before its lease ran out (a job of this node's previous process). */
    isDead: (holder: LeaseHolder) => boolean = () => false,
  ): Promise<PartitionLease | LeaseHolder> {
    const key = lockKey(target.database, target.measurement, target.dayPath);
    const lease = new PartitionLease(backend, key, target.jobId, leaseMs, nowMs);
    if (await lease.write(null)) return lease;
    const current = await backend.getVersioned(key);
    // Released between the two calls: one more try at a fresh lock.
    if (current === null) return (await lease.write(null)) ? lease : await lease.holderOrUnknown();
    const holder = decode(current.bytes);
    if (holder !== null && holder.expiresAtMs > nowMs() && !isDead(holder)) return holder;
    // Expired, unreadable, or its job dead: taken over, only if nobody rewrote it since it was read.
    if (await lease.write(current.version)) return lease;
    return await lease.holderOrUnknown();
  }

  /** Extends the lease from now; false when the lock is not this job's any more. */
  async renew(): Promise<boolean> {
    if (this.version === null || !(await this.holds())) return false;
    return await this.write(this.version);
  }

  /** True while the lock is this job's and its lease has not run out. */
  async holds(): Promise<boolean> {
    const holder = await this.read();
    return holder !== null && holder.job === this.jobId && holder.expiresAtMs > this.nowMs();
  }

  /**
   * Removes the lock while it is surely still this job's (a delete cannot be conditional on S3):
   * with less than RELEASE_MARGIN_MS of the lease left, another node may be taking it over right
   * now, so it is left to expire instead.
   */
  async release(): Promise<void> {
    const holder = await this.read();
    if (holder?.job === this.jobId && holder.expiresAtMs - this.nowMs() > RELEASE_MARGIN_MS) await this.backend.deleteMany([this.key]);
  }

  /** Writes a lock for this job: new when `version` is null, else over that version; false when the condition failed. */
  private async write(version: string | null): Promise<boolean> {
    const body = encode({ node: this.backend.nodeId, job: this.jobId, expiresAtMs: this.nowMs() + this.leaseMs });
    // Whether the write was refused is read back rather than taken from its answer: a write
    // refused after a retry may be this very write, landed before an error answer (Ceph RGW
    // answers 500 to one of two racing writes). The lock is this job's exactly when it holds these
    // very bytes (job id and expiry to the millisecond); the version read is the next write's condition.
    await (version === null ? this.backend.putIfAbsent(this.key, body) : this.backend.putIfVersion(this.key, body, version));
    const stored = await this.backend.getVersioned(this.key);
    if (stored === null || !Buffer.from(stored.bytes).equals(Buffer.from(body))) return false;
    this.version = stored.version;
    return true;
  }

  private async holderOrUnknown(): Promise<LeaseHolder> {
    return (await this.read()) ?? { node: 'unknown', job: 'unknown', expiresAtMs: this.nowMs() + this.leaseMs };
  }

  private async read(): Promise<LeaseBody | null> {
    try {
      const current = await this.backend.getVersioned(this.key);
      return current === null ? null : decode(current.bytes);
    } catch {
      return null;
    }
  }
}

export function isLease(value: PartitionLease | LeaseHolder): value is PartitionLease {
  return value instanceof PartitionLease;
}
