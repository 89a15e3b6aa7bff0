export * from './topics';
export * from './exchange-time';
export * from './price-quote';
export * from './trade-cancellation';
