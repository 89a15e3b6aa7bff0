export * from './kafka-clients';
export * from './kafka-config';
export * from './kafka-metrics';
export * from './kafka';
export * from './offset-tracker';
