// Names from a drop, a zip or a link as the page shows them: characters that are invisible or that
// change the direction of the text around them are written as escapes (`\u202e`), so that a name
// cannot disguise itself (a right-to-left override that shows 'cat\u202egnp.exe' as 'catexe.png', a
// zero-width space that makes two different names look the same).

/** Controls (C0, DEL, C1), format characters (bidirectional embeddings, overrides, isolates and
 *  marks, the Arabic letter mark, zero-width characters, the soft hyphen, tags), the line and
 *  paragraph separators, and the Hangul fillers, which are letters that show nothing. */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]/gu;

/** `text` with each hidden character written as `\uXXXX` (`\u{XXXXX}` beyond U+FFFF). */
export function visibleText(text: string): string {
  return text.replace(HIDDEN, (c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
