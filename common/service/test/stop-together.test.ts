import { createLogger, stopTogether } from '@brokerage/service';

const logger = createLogger({ service: 'stop-together-test', level: 'silent' });

describe('stopTogether', () => {
  it('runs the steps side by side: a step may wait for a later one', async () => {
    let laterStarted!: () => void;
    const later = new Promise<void>((resolve) => (laterStarted = resolve));
    const events: string[] = [];
    await stopTogether(
      [
        [
          'first',
          async () => {
            await later;
            events.push('first stopped');
          },
        ],
        [
          'second',
          async () => {
            laterStarted();
            events.push('second stopped');
          },
        ],
      ],
      logger,
    );
    expect(events).toEqual(['second stopped', 'first stopped']);
  });

  it('runs every step when some fail, and rethrows the first failure in the order given', async () => {
    const stopped: string[] = [];
    const failing = (name: string, afterMs: number) => async () => {
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      stopped.push(name);
      throw new Error(`${name} failed`);
    };
    await expect(
      stopTogether(
        [
          ['slow failure', failing('slow failure', 30)],
          ['fine', async () => void stopped.push('fine')],
          ['quick failure', failing('quick failure', 0)],
        ],
        logger,
      ),
    ).rejects.toThrow('slow failure failed');
    expect(stopped.sort()).toEqual(['fine', 'quick failure', 'slow failure']);
  });
});
