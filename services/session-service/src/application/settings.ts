import type { Lifetimes } from '../domain/session.js';

/** The session rules a deployment chooses (config `session.*`). */
export interface SessionSettings extends Lifetimes {
  maxPerUser: number;
  tokenBytes: number;
}
