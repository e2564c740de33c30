export { SpscRing, RING_CAPACITY_BYTES_MIN, RING_CAPACITY_BYTES_MAX } from './spsc-ring.js';
export { Doorbell } from './doorbell.js';
