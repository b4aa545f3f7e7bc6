/** Typed reads of yargs' untyped argument bag; yargs has already enforced each option's type. */
export type Args = Readonly<Record<string, unknown>>;

export const optionalString = (args: Args, key: string): string | undefined => {
  const v = args[key];
  return v === undefined ? undefined : String(v);
};

export const stringList = (args: Args, key: string): string[] => {
  const v = args[key];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
};

export const flag = (args: Args, key: string): boolean => args[key] === true;

/** Only the keys that are set, so optional properties stay absent (exactOptionalPropertyTypes). */
export const defined = <T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
