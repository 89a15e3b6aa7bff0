export * from './caller';
export * from './internal-tokens';
export * from './user-tokens';
export * from './settings';
