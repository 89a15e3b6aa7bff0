import { OffsetTracker } from '@brokerage/kafka';

describe('offset tracker', () => {
  it('commits only below the oldest message still in flight', () => {
    const tracker = new OffsetTracker();
    for (const offset of ['10', '11', '12', '13']) tracker.begin(offset);
    expect(tracker.committable()).toBe('10');
    tracker.finish('11');
    tracker.finish('13');
    // 10 still waits: a restart must read it again, and with it 11-13.
    expect(tracker.committable()).toBe('10');
    tracker.finish('10');
    expect(tracker.committable()).toBe('12');
    tracker.committed('12');
    expect(tracker.committable()).toBeUndefined();
    tracker.finish('12');
    expect(tracker.committable()).toBe('14');
    expect(tracker.inFlight).toBe(0);
  });

  it('has nothing to commit before it has seen a message', () => {
    expect(new OffsetTracker().committable()).toBeUndefined();
  });

  it('handles offsets beyond 2^53', () => {
    const tracker = new OffsetTracker();
    tracker.begin('9007199254740993');
    tracker.finish('9007199254740993');
    expect(tracker.committable()).toBe('9007199254740994');
  });

  it('tracks a batch by its first offset and commits past its last only when it is done', () => {
    const tracker = new OffsetTracker();
    tracker.begin('100', '199');
    tracker.begin('200', '299');
    expect(tracker.committable()).toBe('100');
    tracker.finish('200');
    // The first batch is not in yet: nothing past 100 may be committed.
    expect(tracker.committable()).toBe('100');
    tracker.finish('100');
    expect(tracker.committable()).toBe('300');
  });

  it('needs a finish for every begin of the same offset (a batch read again while still running)', () => {
    const tracker = new OffsetTracker();
    tracker.begin('100', '199');
    // Read again from 100 after a seek, this time further.
    tracker.begin('100', '299');
    tracker.finish('100');
    expect(tracker.committable()).toBe('100');
    expect(tracker.inFlight).toBe(1);
    tracker.finish('100');
    expect(tracker.committable()).toBe('300');
    expect(tracker.resumeOffset()).toBe('300');
  });
});
