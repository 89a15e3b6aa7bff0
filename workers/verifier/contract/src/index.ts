export * from './verification-outcomes';
