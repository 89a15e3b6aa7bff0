/**
 * When the fetch cycles run: one at start, then each next one `intervalMs` after the one before
 * ends (never two at once, however long a cycle takes), until stopped.
 */
export class FetchSchedule {
  private timer: NodeJS.Timeout | undefined;
  private cycle: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly intervalMs: number) {}

  /** Runs `runCycle` now and after every interval; `runCycle` handles its own failures. */
  start(runCycle: () => Promise<void>): void {
    const next = () => {
      if (this.stopping) return;
      this.timer = setTimeout(() => {
        this.cycle = runCycle().finally(next);
      }, this.intervalMs);
    };
    this.cycle = runCycle().finally(next);
  }

  /** Schedules no further cycle and waits for the one in progress. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.cycle;
  }
}
