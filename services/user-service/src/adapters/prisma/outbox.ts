import { outboxInsertStatement } from '@warden/events';
import type { UserEvent } from '../../domain/user-events.js';
import { toEnvelope } from '../events/user-event-envelope.js';
import type { PrismaClient, TransactionClient } from './prisma-client.js';

/** Outbox rows for `events`, written by the transaction that saves the state they describe. */
export async function writeOutbox(
  tx: TransactionClient,
  events: readonly UserEvent[],
  traceparent?: string,
): Promise<void> {
  if (events.length === 0) return;
  await outboxStatement(tx, events, traceparent);
}

/** The INSERT as a Prisma promise, so it can also join a batch `$transaction([...])`. */
export function outboxStatement(
  client: TransactionClient | PrismaClient,
  events: readonly UserEvent[],
  traceparent?: string,
) {
  const insert = outboxInsertStatement(events.map((event) => toEnvelope(event, traceparent)));
  return client.$executeRawUnsafe(insert.sql, ...insert.values);
}
