/**
 * Plain code-unit order for sorting ids and chain names. localeCompare would ask ICU, whose
 * collator takes 5-20 ms to set up at its first use in a process (that is, in every CNI call),
 * and whose order depends on the locale.
 */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
