export * from './caller';
export * from './internal-tokens';
export * from './user-tokens';
export * from './settings';
export * from './access-tokens';
export * from './session-errors';
