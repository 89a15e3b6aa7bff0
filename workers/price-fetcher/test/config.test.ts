import { ConfigError, loadConfig } from '@brokerage/service';
import { priceFetcherConfigSchema } from '../src/config';

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(priceFetcherConfigSchema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  return '';
}

describe('price fetcher configuration: the catch-up after downtime', () => {
  it('looks back 7 days and replays one day with no closed weekday by default', () => {
    const config = loadConfig(priceFetcherConfigSchema, {});
    expect(config).toMatchObject({ BACKFILL_MAX_DAYS: 7, REPLAY_DAYS: 1, REPLAY_CLOSED_WEEKDAYS: [] });
  });

  it('reads the look-back, the replay days and the closed weekdays', () => {
    const config = loadConfig(priceFetcherConfigSchema, {
      BACKFILL_MAX_DAYS: '0',
      REPLAY_DAYS: '30',
      REPLAY_CLOSED_WEEKDAYS: ' Thu, fri ',
    });
    expect(config).toMatchObject({
      BACKFILL_MAX_DAYS: 0,
      REPLAY_DAYS: 30,
      REPLAY_CLOSED_WEEKDAYS: ['thu', 'fri'],
    });
  });

  it.each([
    [{ BACKFILL_MAX_DAYS: '-1' }, /BACKFILL_MAX_DAYS/],
    [{ BACKFILL_MAX_DAYS: '61' }, /BACKFILL_MAX_DAYS/],
    [{ BACKFILL_MAX_DAYS: 'a week' }, /BACKFILL_MAX_DAYS/],
    [{ REPLAY_DAYS: '0' }, /REPLAY_DAYS/],
    [{ REPLAY_CLOSED_WEEKDAYS: 'thursday' }, /REPLAY_CLOSED_WEEKDAYS.*one of sun, mon/],
  ])('refuses %j', (env, problem) => {
    expect(problemsOf(env)).toMatch(problem);
  });
});
