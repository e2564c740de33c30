import type { StorageBackend } from '@arc/storage';

/**
 * A partition's lock, kept as an object in the store so that every node sharing it sees it
 * (`<database>/<measurement>/_locks/<YYYY-MM-DD>.json`: holder and expiry). Taken with
 * put-if-absent; a lock whose lease ran out (its job died, or its node) is taken over. The holder
 * renews it while its job runs and checks it still holds it right before committing, so a job
 * that lost its lease (stalled past it) never commits beside the job that took over.
 */
const LOCKS_DIRECTORY = '_locks';

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

  private constructor(backend: StorageBackend, key: string, jobId: string, leaseMs: number, nowMs: () => number) {
    this.backend = backend;
    this.key = key;
    this.jobId = jobId;
    this.leaseMs = leaseMs;
    this.nowMs = nowMs;
  }

  /** Takes the lock of the day `dayPath` (`YYYY/MM/DD`) for `jobId`, or says who holds it. */
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
    if (await backend.putIfAbsent(key, lease.body())) return lease;
    const holder = await lease.read();
    if (holder !== null && holder.expiresAtMs > nowMs() && !isDead(holder)) return holder;
    // Expired (or unreadable): the holder died. Taken over; a racing taker loses the put.
    await backend.deleteMany([key]);
    if (await backend.putIfAbsent(key, lease.body())) return lease;
    return (await lease.read()) ?? { node: 'unknown', job: 'unknown', expiresAtMs: nowMs() + leaseMs };
  }

  /** Extends the lease from now; false when the lock is not this job's any more. */
  async renew(): Promise<boolean> {
    if (!(await this.holds())) return false;
    await this.backend.put(this.key, this.body());
    return true;
  }

  /** True while the lock is this job's and its lease has not run out. */
  async holds(): Promise<boolean> {
    const holder = await this.read();
    return holder !== null && holder.job === this.jobId && holder.expiresAtMs > this.nowMs();
  }

  async release(): Promise<void> {
    if ((await this.read())?.job === this.jobId) await this.backend.deleteMany([this.key]);
  }

  private body(): Uint8Array {
    return encode({ node: this.backend.nodeId, job: this.jobId, expiresAtMs: this.nowMs() + this.leaseMs });
  }

  private async read(): Promise<LeaseBody | null> {
    try {
      return decode(await this.backend.get(this.key));
    } catch {
      return null;
    }
  }
}

export function isLease(value: PartitionLease | LeaseHolder): value is PartitionLease {
  return value instanceof PartitionLease;
}
