import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RevocationSnapshot } from './revocation-state.js';
import type { RevocationItem } from './types.js';

/** Where the feed stands and what it said, saved together so a restart resumes consistently. */
export interface Checkpoint {
  version: 1;
  /** The cursor of the last applied item; '' before the first. */
  cursor: string;
  /** When it was saved (ms): the gateway counts the time since as a feed outage. */
  savedAt: number;
  state: RevocationSnapshot;
}

/** Pluggable: a file (the default), Redis, a database... `save` must be atomic. */
export interface CheckpointStore {
  load(): Promise<Checkpoint | undefined>;
  /**
   * Saves the checkpoint. `items` are the feed items it makes durable (applied since the last
   * save), for a store that keeps a journal of them in the same atomic write; others ignore them.
   */
  save(checkpoint: Checkpoint, items: readonly RevocationItem[]): Promise<void>;
}

/** A JSON file replaced atomically (write, then rename). */
export class FileCheckpointStore implements CheckpointStore {
  constructor(private readonly path: string) {}

  async load(): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<Checkpoint>;
    if (parsed.version !== 1 || typeof parsed.cursor !== 'string' || !parsed.state)
      throw new Error(`${this.path} is not a gateway checkpoint`);
    return parsed as Checkpoint;
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(checkpoint));
    await rename(temporary, this.path);
  }
}

/** Kept in memory only: a restarted gateway starts afresh (and refuses older tokens). */
export class MemoryCheckpointStore implements CheckpointStore {
  private saved: Checkpoint | undefined;

  async load(): Promise<Checkpoint | undefined> {
    return this.saved && structuredClone(this.saved);
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    this.saved = structuredClone(checkpoint);
  }
}
