/**
 * Which offsets of one partition may be committed when messages finish out of order: everything
 * below the oldest message still being worked on. A restart resumes from there, so unfinished
 * work is never lost; finished work after it is done again, which its consumers absorb.
 */
export class OffsetTracker {
  private readonly pending = new Set<bigint>();
  private highestSeen = -1n;
  private lastCommitted: bigint | undefined;

  begin(offset: string): void {
    const value = BigInt(offset);
    this.pending.add(value);
    if (value > this.highestSeen) this.highestSeen = value;
  }

  finish(offset: string): void {
    this.pending.delete(BigInt(offset));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** The offset to commit (the next one to read after a restart), or undefined if unchanged. */
  committable(): string | undefined {
    if (this.highestSeen < 0n) return undefined;
    let next = this.highestSeen + 1n;
    for (const offset of this.pending) if (offset < next) next = offset;
    if (this.lastCommitted !== undefined && next <= this.lastCommitted) return undefined;
    return next.toString();
  }

  committed(offset: string): void {
    this.lastCommitted = BigInt(offset);
  }
}
