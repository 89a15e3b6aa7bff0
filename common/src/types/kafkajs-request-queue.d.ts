// kafkajs' per-connection request queue: the internal module common/src/kafka-request-queue.ts
// mends (kafkajs ships no types for its internals).
declare module 'kafkajs/src/network/requestQueue' {
  class RequestQueue {
    pending: unknown[];
    throttledUntil: number;
    throttleCheckTimeoutId: NodeJS.Timeout | null;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
  }
  export = RequestQueue;
}
