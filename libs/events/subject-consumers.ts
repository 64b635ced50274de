import { createInboxConsumer, type InboxConsumer, type InboxConsumerOptions, type InboxConsumerStats } from './consumer.js';

/**
 * One inbox consumer per filter subject, seen from outside as one consumer
 * (its name and summed stats are what metrics report).
 *
 * nats-server before 2.10 cannot filter one consumer on several subjects, so
 * such a consumer reads the whole stream and acks what it does not want: the
 * order service received, decoded and acked every reservation and commit event
 * of every order to find the few releases among them. With a durable per
 * subject the server does the filtering. Durables are named
 * `<durableName>--<subject with dots as dashes>`; their inbox rows keep
 * `durableName`, so events a former single durable applied are not applied
 * again when the new durables read the stream from its start.
 */
export function createSubjectConsumers(options: InboxConsumerOptions): InboxConsumer {
  const parts = options.filterSubjects.map((subject) =>
    createInboxConsumer({
      ...options,
      durableName: subjectDurable(options.durableName, subject),
      inboxName: options.inboxName ?? options.durableName,
      filterSubjects: [subject],
    }),
  );
  return {
    name: options.durableName,
    async start() {
      await Promise.all(parts.map((part) => part.start()));
    },
    async stop() {
      await Promise.all(parts.map((part) => part.stop()));
    },
    stats() {
      const total: InboxConsumerStats = { processed: 0, duplicates: 0, failures: 0, deadLettered: 0, redeliveries: 0 };
      for (const part of parts) {
        const stats = part.stats();
        for (const key of Object.keys(total) as (keyof InboxConsumerStats)[]) total[key] += stats[key];
      }
      return total;
    },
  };
}

/** A durable name for one subject: names may not contain dots or wildcards. */
export function subjectDurable(durableName: string, subject: string): string {
  return `${durableName}--${subject.replace(/[.*>]/g, '-')}`;
}
