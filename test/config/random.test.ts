import { describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from '../../src/config/random.js';

describe('randomBytes', () => {
  it('gives as many bytes as asked, different every time', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
    expect(randomBytes(1000)).toHaveLength(1000);
  });
});

describe('randomUUID', () => {
  it('is a version 4, variant 1 UUID, unique over many', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = randomUUID();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(2000);
  });
});
