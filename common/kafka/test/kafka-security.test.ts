import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kafkaSecurityConfig, kafkaSecurityOptions } from '@brokerage/kafka';
import { ConfigError, loadConfig } from '@brokerage/service';
import { z } from 'zod';

const schema = z.object(kafkaSecurityConfig);

describe('Kafka client security from KAFKA_SASL_* and KAFKA_SSL_*', () => {
  it('is plaintext without authentication when nothing is set', () => {
    expect(kafkaSecurityOptions(loadConfig(schema, {}))).toEqual({});
  });

  it('authenticates with the given SCRAM user', () => {
    const config = loadConfig(schema, {
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'orders',
      KAFKA_SASL_PASSWORD: 's3cret',
    });
    expect(kafkaSecurityOptions(config)).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'orders', password: 's3cret' },
    });
  });

  it('counts empty values as unset, as compose files pass them', () => {
    const config = loadConfig(schema, {
      KAFKA_SASL_MECHANISM: '',
      KAFKA_SASL_USERNAME: '',
      KAFKA_SSL_CA_PATH: '',
    });
    expect(kafkaSecurityOptions(config)).toEqual({});
  });

  it('refuses an unknown mechanism at load', () => {
    expect(() => loadConfig(schema, { KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(ConfigError);
  });

  it('refuses a mechanism without a user and a user without a mechanism', () => {
    expect(() => kafkaSecurityOptions({ KAFKA_SASL_MECHANISM: 'scram-sha-256' })).toThrow(
      /KAFKA_SASL_USERNAME/,
    );
    expect(() => kafkaSecurityOptions({ KAFKA_SASL_USERNAME: 'orders', KAFKA_SASL_PASSWORD: 'x' })).toThrow(
      /KAFKA_SASL_MECHANISM/,
    );
  });

  it('reads the CA and the client certificate for TLS, and refuses a certificate without its key', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kafka-tls-'));
    const [ca, cert, key] = ['ca.pem', 'cert.pem', 'key.pem'].map((name) => {
      writeFileSync(path.join(dir, name), `-----${name}-----`);
      return path.join(dir, name);
    }) as [string, string, string];
    const config = loadConfig(schema, {
      KAFKA_SSL_CA_PATH: ca,
      KAFKA_SSL_CERT_PATH: cert,
      KAFKA_SSL_KEY_PATH: key,
    });
    expect(kafkaSecurityOptions(config)).toEqual({
      ssl: {
        rejectUnauthorized: true,
        ca: ['-----ca.pem-----'],
        cert: '-----cert.pem-----',
        key: '-----key.pem-----',
      },
    });
    expect(kafkaSecurityOptions(loadConfig(schema, { KAFKA_SSL: 'true' }))).toEqual({
      ssl: { rejectUnauthorized: true },
    });
    expect(() => kafkaSecurityOptions({ KAFKA_SSL_CERT_PATH: cert })).toThrow(/KAFKA_SSL_KEY_PATH/);
    expect(() => kafkaSecurityOptions({ KAFKA_SSL_CA_PATH: path.join(dir, 'missing.pem') })).toThrow(
      /cannot read/,
    );
  });
});
