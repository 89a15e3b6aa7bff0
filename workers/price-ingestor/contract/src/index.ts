export * from './series-keys';
export * from './price-points';
