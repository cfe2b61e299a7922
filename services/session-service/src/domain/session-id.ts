const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Session and user ids are UUIDs (v7 when we make them); anything else cannot name one. */
export const isUuid = (text: string): boolean => UUID.test(text);
