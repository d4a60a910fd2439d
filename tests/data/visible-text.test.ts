// Names shown in the page: characters that hide or turn the text around are written as escapes,
// and nothing else changes.
import { describe, expect, it } from 'vitest';
import { visibleText } from '../../src/data/visible-text.ts';

describe('visibleText', () => {
  it('escapes bidirectional overrides, embeddings, isolates and marks, and invisible characters', () => {
    expect(visibleText('cat\u202egnp.exe')).toBe('cat\\u202egnp.exe');
    const bidi = '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c';
    expect(visibleText(bidi)).toBe(
      '\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c',
    );
    expect(visibleText('a\u200bb\u00adc\ufeffd\u0000e\u0085f\u2028g\u3164h')).toBe(
      'a\\u200bb\\u00adc\\ufeffd\\u0000e\\u0085f\\u2028g\\u3164h',
    );
    expect(visibleText('tag\u{e0041}')).toBe('tag\\u{e0041}');
  });

  it('leaves names in any script as they are', () => {
    for (const name of ['ñandú/ß.png', 'قطة/صورة.png', '猫/图片.png', 'emoji 😀.png', 'C:\\data', 'a b']) {
      expect(visibleText(name)).toBe(name);
    }
  });
});
