import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { uniqueName } from '@warden/testing';

/**
 * The messages on `subject` stored since `since`, read through a short-lived consumer of our
 * own: the stream is shared with every other test on the machine, so tests look up their own
 * messages instead of counting the stream.
 */
export async function messagesSince(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  since: Date,
): Promise<JsMsg[]> {
  const name = uniqueName('user_test_reader');
  const info = await jsm.consumers.add(stream, {
    name,
    filter_subject: subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: since.toISOString(),
    ack_policy: AckPolicy.None,
    inactive_threshold: nanos(60_000),
  });
  try {
    const consumer = await js.consumers.get(stream, name);
    const messages: JsMsg[] = [];
    let pending = info.num_pending;
    while (pending > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(pending, 500), expires: 2000 });
      let received = 0;
      for await (const msg of batch) {
        messages.push(msg);
        received++;
      }
      if (received === 0) break;
      pending -= received;
    }
    return messages;
  } finally {
    await jsm.consumers.delete(stream, name).catch(() => undefined);
  }
}
