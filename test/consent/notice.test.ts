import { describe, expect, it } from 'vitest';
import { noticeDue, noticeText } from '../../src/consent/notice.js';

describe('first-run notice', () => {
  it.each([
    [false, true, false, true],
    [true, true, false, false],
    [false, false, false, false],
    [false, true, true, false],
  ])('shown=%s terminal=%s ci=%s -> due=%s', (shown, terminal, ci, due) => {
    expect(noticeDue(shown, terminal, ci)).toBe(due);
  });

  it('says what is collected at each level, how to see it and how to turn it off', () => {
    for (const level of ['basic', 'usage', 'full'] as const) {
      const text = noticeText('acme-sdk', level, undefined);
      expect(text).toContain('acme-sdk collects anonymous usage counts');
      expect(text).toContain('TALLYHO_SHOW_ME=1');
      expect(text).toContain('TALLYHO_OPTOUT=acme-sdk');
      expect(text).toContain('DO_NOT_TRACK=1');
      expect(text).toContain('tallyho optout acme-sdk');
    }
    expect(noticeText('acme-sdk', 'basic', undefined)).not.toContain('weekly');
    expect(noticeText('acme-sdk', 'usage', undefined)).toContain('changes every week');
    // Every field a usage report may carry is named: durations and run ends, numbers and choices, dependency versions.
    for (const level of ['usage', 'full'] as const) {
      const text = noticeText('acme-sdk', level, undefined);
      for (const part of ['how often they fail', 'how long they take', 'how runs end', 'numbers and choices', 'versions of the packages it names', 'whether it runs in CI']) {
        expect(text).toContain(part);
      }
    }
    expect(noticeText('acme-sdk', 'basic', undefined)).not.toContain('how long');
  });

  it("an author's own wording replaces the first sentence, never the opt-out lines", () => {
    const text = noticeText('acme-sdk', 'usage', 'Acme counts feature use to decide what to build next.');
    expect(text.startsWith('Acme counts feature use')).toBe(true);
    expect(text).not.toContain('collects anonymous usage counts');
    expect(text).toContain('TALLYHO_OPTOUT=acme-sdk');
    expect(text).toContain('tallyho optout acme-sdk');
    expect(noticeText('acme-sdk', 'usage', '   ')).toContain('collects anonymous usage counts');
  });
});
