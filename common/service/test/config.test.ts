import { z } from 'zod';
import { ConfigError, env, loadConfig } from '@brokerage/service';

const schema = z.object({
  PORT: env.port(4000),
  KAFKA_BROKERS: env.kafkaBrokers(),
  DEBUG: env.boolean(false),
});

describe('loadConfig', () => {
  it('applies defaults and parses lists and numbers', () => {
    expect(loadConfig(schema, {})).toEqual({ PORT: 4000, KAFKA_BROKERS: ['127.0.0.1:9092'], DEBUG: false });
    expect(loadConfig(schema, { PORT: '5000', KAFKA_BROKERS: 'a:1, b:2', DEBUG: 'true' })).toEqual({
      PORT: 5000,
      KAFKA_BROKERS: ['a:1', 'b:2'],
      DEBUG: true,
    });
  });

  it('reports every invalid variable at once', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: 'eighty', KAFKA_BROKERS: 'nohost', DEBUG: 'maybe' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/KAFKA_BROKERS/);
    expect(problems).toMatch(/DEBUG/);
  });
});
