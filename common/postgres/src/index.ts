export * from './outbox-relay-base';
export * from './postgres';
