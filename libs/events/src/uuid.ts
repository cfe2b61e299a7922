import { randomFillSync } from 'node:crypto';

const MAX_COUNTER = 0xfff;

let lastMs = -1;
let counter = 0;

// Random bytes drawn 4 KiB at a time: one randomFillSync per id (two in a new millisecond) was a
// visible share of every state change's CPU (the outbox row's id).
const entropy = Buffer.alloc(4096);
let used = entropy.length;

function randomBytes(count: number): Buffer {
  if (used + count > entropy.length) {
    randomFillSync(entropy);
    used = 0;
  }
  used += count;
  return entropy.subarray(used - count, used);
}

/**
 * RFC 9562 UUIDv7: 48-bit Unix ms, then a 12-bit counter in rand_a so ids made in the same
 * millisecond by this process still sort in creation order (method 1 of section 6.2).
 * `now` is for tests: a future value carries over to the ids that follow.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    // Random start below half the range leaves room to count up within the millisecond.
    counter = randomCounterSeed();
  } else if (counter < MAX_COUNTER) {
    counter++;
  } else {
    // Counter exhausted, or the clock stepped back: borrow the next millisecond.
    lastMs++;
    counter = randomCounterSeed();
  }

  const bytes = Uint8Array.from(randomBytes(16));
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | (counter >>> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  return formatUuid(bytes);
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

function randomCounterSeed(): number {
  return randomBytes(2).readUInt16LE(0) & 0x7ff;
}

function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
