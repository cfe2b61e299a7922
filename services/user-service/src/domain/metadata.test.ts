import { Violations } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import {
  checkExternalId,
  checkMetadata,
  METADATA_LIMITS,
  normalizeExternalId,
  publicMetadata,
} from './metadata.js';

const problems = (check: (v: Violations) => void): string[] => {
  const found: string[] = [];
  check({ add: (field: string) => found.push(field) } as unknown as Violations);
  return found;
};

describe('metadata rules', () => {
  it('shows only public. keys to readers without user.read_metadata', () => {
    expect(publicMetadata({ 'public.a': '1', publicb: '2', b: '3' })).toEqual({ 'public.a': '1' });
  });

  it('accepts the limits exactly and refuses one past each', () => {
    const { maxEntries, maxKeyLength, maxValueLength } = METADATA_LIMITS;
    const full = Object.fromEntries(Array.from({ length: maxEntries }, (_, i) => [`k${i}`, 'v']));
    expect(problems((v) => checkMetadata(full, 'metadata', v))).toEqual([]);
    expect(problems((v) => checkMetadata({ ...full, extra: 'v' }, 'metadata', v))).toEqual([
      'metadata',
    ]);
    expect(
      problems((v) =>
        checkMetadata({ ['k'.repeat(maxKeyLength)]: 'v'.repeat(maxValueLength) }, 'metadata', v),
      ),
    ).toEqual([]);
    expect(
      problems((v) => checkMetadata({ ['k'.repeat(maxKeyLength + 1)]: 'v' }, 'metadata', v)),
    ).toHaveLength(1);
    expect(
      problems((v) => checkMetadata({ k: 'v'.repeat(maxValueLength + 1) }, 'metadata', v)),
    ).toEqual(['metadata["k"]']);
    expect(problems((v) => checkMetadata({ '': 'v' }, 'metadata', v))).toHaveLength(1);
    expect(problems((v) => checkMetadata({ 'a b': 'v', ä: 'v' }, 'metadata', v))).toHaveLength(2);
    expect(problems((v) => checkMetadata({ 'Crm_1.seg-ment': 'v' }, 'metadata', v))).toEqual([]);
  });

  it('trims external ids and refuses long ones or control characters', () => {
    expect(normalizeExternalId('  crm-1 ')).toBe('crm-1');
    expect(
      problems((v) =>
        checkExternalId('x'.repeat(METADATA_LIMITS.maxExternalIdLength), 'external_id', v),
      ),
    ).toEqual([]);
    expect(
      problems((v) =>
        checkExternalId('x'.repeat(METADATA_LIMITS.maxExternalIdLength + 1), 'external_id', v),
      ),
    ).toEqual(['external_id']);
    expect(problems((v) => checkExternalId('a\u0000b', 'external_id', v))).toEqual(['external_id']);
  });
});
