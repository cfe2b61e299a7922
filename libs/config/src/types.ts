import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration written as `250ms`, `30s`, `30m`, `24h`, `7d` (or a number of ms), parsed to ms. */
export const duration = () =>
  z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
    if (!match) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not a duration like 500ms, 30s, 30m, 24h`,
      });
      return z.NEVER;
    }
    return Math.round(Number(match[1]) * UNITS[match[2]!]!);
  });

/** A list that env overrides may also give comma-separated (`a@x.io,b@x.io`). */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : (value ?? []),
    z.array(item),
  );
