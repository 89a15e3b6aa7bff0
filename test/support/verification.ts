import { encodeJson } from '@brokerage/service';
import { type VerificationOutcome } from '@brokerage/verifier-contract';
import { produce } from './produce';

/** Publishes a verification outcome as the verifier would, so a test decides when (and how) an order ends. */
export function publishVerificationOutcome(
  topic: string,
  orderId: string,
  outcome: VerificationOutcome['outcome'],
): Promise<void> {
  return publishVerificationOutcomes(topic, [{ orderId, outcome }]);
}

/** Publishes several outcomes in one send, as a verifier's batch would arrive. */
export function publishVerificationOutcomes(
  topic: string,
  outcomes: ReadonlyArray<{ orderId: string; outcome: VerificationOutcome['outcome'] }>,
): Promise<void> {
  const decidedAt = new Date().toISOString();
  return produce(
    topic,
    outcomes.map(({ orderId, outcome }) => ({
      key: orderId,
      value: encodeJson({ orderId, outcome, decidedAt } satisfies VerificationOutcome),
    })),
  );
}
