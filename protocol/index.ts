export * from './constants.ts';
export * from './errors.ts';
export * from './messages.ts';
export * from './options.ts';
export type * from './types.ts';
export * from "./errorTransfer.ts";
