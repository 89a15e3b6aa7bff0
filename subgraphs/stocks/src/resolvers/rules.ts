/** The exchange's instrument codes: digits, up to 20 (beyond what a JavaScript number holds). */
export const INSTRUMENT_ID = /^[0-9]{1,20}$/;
export const SYMBOL = /^[A-Za-z0-9_]{1,32}$/;
export const MAX_NAME_LENGTH = 100;
/** The most symbols one request (and one priceChanged subscription) may name. */
export const MAX_SYMBOLS = 50;
