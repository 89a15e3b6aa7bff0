import type { Kafka } from 'kafkajs';

/**
 * Rebuilding the price series after Redis lost them: the ingestors' consumer group is moved back
 * to the start of the prices topic, so that the ingestors, started again, fold everything the
 * topic retains into fresh series. Their writes are idempotent (the latest trade of a minute
 * wins), so keys that survived are rewritten to the same values.
 *
 * Kafka moves a group's offsets only while it has no members: the ingestors must be stopped first.
 */
export async function rewindIngestors(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const {
      groups: [group],
    } = await admin.describeGroups([groupId]);
    if (group && group.members.length > 0) {
      throw new Error(
        `consumer group ${groupId} has ${group.members.length} running member(s): stop the price ingestors first`,
      );
    }
    await admin.resetOffsets({ groupId, topic, earliest: true });
  } finally {
    await admin.disconnect();
  }
}
