import RequestQueue from 'kafkajs/src/network/requestQueue';

/**
 * Mends kafkajs 2.2.4's request queue, which keeps every broker connection's event loop busy.
 *
 * After each response, kafkajs calls `scheduleCheckPendingRequests`, which arms a timer even when
 * no request is waiting, with a negative delay (`throttledUntil` is -1 when nothing throttles):
 * the timer fires at once, checks an empty queue, and arms the next. Each connection so runs a
 * 1 ms timer loop for as long as it is open (tulios/kafkajs#1556, #1604, #1704; the upstream fix,
 * #1667, is not released). In the orders service that loop was the largest single allocator
 * while it applied 50 outcomes a second, and it costs every Kafka client idle CPU.
 *
 * Here the check is armed only when a request is waiting: a request that cannot go out at once
 * (too many in flight, or the broker asked us to wait) is checked when the throttle ends, or
 * after CHECK_PENDING_REQUESTS_INTERVAL; one held back by the in-flight limit is also sent when a
 * response arrives (`fulfillRequest` checks the queue itself), as before.
 */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

const prototype = RequestQueue.prototype;
prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue) {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL,
  );
};
