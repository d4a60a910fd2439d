// The data panel with a hostile zip dropped onto the page (CDP drag events with a real file): names
// that hide characters or turn the text around are shown with those characters escaped, and an
// entry 16,000 levels deep is listed as left out, with why, in bounded time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeZip, png, removeTempDirs, tempDir } from '../data/fixtures.ts';
import { openPage } from '../helpers/browser.ts';

afterAll(removeTempDirs);

describe('the data panel', () => {
  it('shows hidden and direction-changing characters in names as escapes, and why a deep entry was left out', async () => {
    const page = await openPage('/');
    const image = await png();
    const deep = `${'a/'.repeat(15_999)}x.png`;
    const zip = await makeZip({
      'cat\u202egnp.exe/1.png': image,
      'dogs/1.png': image,
      'dogs/\u200bnotes\u2066.txt': 'x',
      [deep]: image,
    });
    const path = join(await tempDir(), 'photos\u202e.zip');
    writeFileSync(path, new Uint8Array(await zip.arrayBuffer()));
    await page.getByTestId('data-name').waitFor({ timeout: 60_000 }); // the built-in pack, loaded first

    const box = (await page.getByTestId('data-drop').boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const data = { items: [], files: [path], dragOperationsMask: 1 };
    const t0 = performance.now();
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const)
      await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
    await page.getByText('photos\\u202e.zip').first().waitFor({ timeout: 60_000 });
    await page.getByTestId('data-classes').waitFor();
    const ms = performance.now() - t0;
    console.log(`a dropped zip with a 16,000-level entry, shown in the data panel in ${ms.toFixed(0)} ms`);

    const panel = page.getByTestId('data-info');
    await expect(page.getByTestId('data-name').textContent()).resolves.toBe('photos\\u202e.zip');
    await expect(panel.locator('.classes').textContent()).resolves.toMatch(/cat\\u202egnp\.exe.*dogs/);
    await page.getByTestId('left-out').locator('summary').click();
    const leftOut = await page.getByTestId('left-out').textContent();
    expect(leftOut).toContain('dogs/\\u200bnotes\\u2066.txt: not an image (.txt)');
    expect(leftOut).toContain(`${deep}: path longer than 4,096 characters`);
    expect(await panel.textContent()).not.toMatch(/[\u200b\u202e\u2066]/);
    expect(ms).toBeLessThan(10_000);
  });
});
