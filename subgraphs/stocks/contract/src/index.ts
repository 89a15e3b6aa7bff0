export * from './topics';
export * from './stock-listings';
