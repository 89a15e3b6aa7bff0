/**
 * Which offsets of one partition may be committed when work finishes out of order: everything
 * below the oldest piece of work still unfinished. A restart resumes from there, so unfinished
 * work is never lost; finished work after it is done again, which its consumers absorb.
 *
 * A piece of work is one message (the verifier) or a batch of consecutive messages named by its
 * first offset (the price ingestor): `begin(first, last)`. The same offset may be begun again
 * while its first run is unfinished (a partition read again after a rebalance or a seek); each
 * begin needs its own finish, so a re-read never releases work that is still running.
 */
export class OffsetTracker {
  /** First offset of each unfinished piece of work -> how many runs of it are unfinished. */
  private readonly pending = new Map<bigint, number>();
  private highestSeen = -1n;
  private lastCommitted: bigint | undefined;

  /** Work on `first`..`last` (one message: `last` = `first`) has started. */
  begin(first: string, last: string = first): void {
    const value = BigInt(first);
    this.pending.set(value, (this.pending.get(value) ?? 0) + 1);
    const end = last === first ? value : BigInt(last);
    if (end > this.highestSeen) this.highestSeen = end;
  }

  /** Work begun at `first` is done (its side effects are durable). */
  finish(first: string): void {
    const value = BigInt(first);
    const runs = this.pending.get(value);
    if (runs === undefined) return;
    if (runs > 1) this.pending.set(value, runs - 1);
    else this.pending.delete(value);
  }

  get inFlight(): number {
    let runs = 0;
    for (const count of this.pending.values()) runs += count;
    return runs;
  }

  /**
   * The offset to read from after a restart: the oldest unfinished work, or the one after the
   * highest seen; undefined before anything was begun.
   */
  resumeOffset(): string | undefined {
    if (this.highestSeen < 0n) return undefined;
    let next = this.highestSeen + 1n;
    for (const offset of this.pending.keys()) if (offset < next) next = offset;
    return next.toString();
  }

  /** The offset to commit (the next one to read after a restart), or undefined if unchanged. */
  committable(): string | undefined {
    const next = this.resumeOffset();
    if (next === undefined) return undefined;
    if (this.lastCommitted !== undefined && BigInt(next) <= this.lastCommitted) return undefined;
    return next;
  }

  committed(offset: string): void {
    this.lastCommitted = BigInt(offset);
  }
}
