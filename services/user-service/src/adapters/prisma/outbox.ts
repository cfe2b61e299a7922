import { outboxInsertStatement } from '@warden/events';
import type { UserEvent } from '../../domain/user-events.js';
import { toEnvelope } from '../events/user-event-envelope.js';
import type { TransactionClient } from './prisma-client.js';

/** Outbox rows for `events`, written by the transaction that saves the state they describe. */
export async function writeOutbox(
  tx: TransactionClient,
  events: readonly UserEvent[],
  traceparent?: string,
): Promise<void> {
  if (events.length === 0) return;
  const insert = outboxInsertStatement(events.map((event) => toEnvelope(event, traceparent)));
  await tx.$executeRawUnsafe(insert.sql, ...insert.values);
}
