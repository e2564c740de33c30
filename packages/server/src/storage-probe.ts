import type { StorageBackend } from '@arc/storage';
import type { Logger } from './log.js';

/** What the last probe of the store found (/health, /ready). */
export interface StorageReachability {
  readonly backend: 'local' | 's3';
  readonly reachable: boolean;
  /** Why the last probe failed; null while reachable. Names no secret (the backend's errors never do). */
  readonly error: string | null;
  /** When the last probe ended, ms since the epoch; null before the first. */
  readonly checkedAtMs: number | null;
}

/**
 * Checks every `intervalMs` that the store can be read (StorageBackend.check: a stat in the
 * bucket, a write in the data directory), so /health and /ready report a dead read or write path
 * instead of a green light while every flush and query fails. The first probe ran at the start
 * (a failure there stops it); this one keeps watching. One probe at a time.
 */
export class StorageProbe {
  private state: StorageReachability;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  private readonly backend: StorageBackend;
  private readonly log: Logger;

  constructor(backend: StorageBackend, log: Logger) {
    this.backend = backend;
    this.log = log;
    this.state = { backend: backend.kind, reachable: true, error: null, checkedAtMs: Date.now() };
  }

  get reachability(): StorageReachability {
    return this.state;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.probe(), intervalMs);
    this.timer.unref();
  }

  /** Probes now (unless a probe is under way) and resolves with its finding. */
  async probe(): Promise<StorageReachability> {
    this.running ??= this.backend.check().then(
      () => this.record(null),
      (error: unknown) => this.record(error instanceof Error ? error.message : String(error)),
    );
    await this.running;
    this.running = null;
    return this.state;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private record(error: string | null): void {
    if (error !== null && this.state.reachable) this.log.error(`storage: the ${this.backend.kind} store is unreachable: ${error}`);
    if (error === null && !this.state.reachable) this.log.info(`storage: the ${this.backend.kind} store is reachable again`);
    this.state = { backend: this.backend.kind, reachable: error === null, error, checkedAtMs: Date.now() };
  }
}
