// Opening a link in the page's store, in Node (fetch stubbed): a link repeating one mistake 50,000
// times adds its notices in one update, and built-in names that are Object properties are refused
// by name without anything fetched but the list of packs.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { measured } from '../helpers/measure.ts';

const fetched: string[] = [];
vi.stubGlobal('location', new URL('http://localhost/'));
vi.stubGlobal('fetch', async (url: string) => {
  fetched.push(String(url));
  return new Response(JSON.stringify([{ id: 'mnist', name: 'MNIST', file: 'mnist.zip' }]));
});
afterAll(() => vi.unstubAllGlobals());

const { openFromHash } = await import('../../src/app/share/link-sync.ts');
const { useStore } = await import('../../src/app/store.ts');

describe('openFromHash', () => {
  it('a link repeating v=1 50,000 times: its notices reach the store in one update, in linear time', async () => {
    let updates = 0;
    const unsubscribe = useStore.subscribe((s, prev) => void (s.notices !== prev.notices && updates++));
    const hash = `#model=builtin:constructor&data=pack:constructor&${Array(50_000).fill('v=1').join('&')}`;
    const { ms, mb } = await measured(() => openFromHash(hash));
    unsubscribe();
    console.log(
      `a link repeating v=1 50,000 times opened in the store: ${ms.toFixed(0)} ms, memory +${mb.toFixed(1)} MB, ${updates} update of the notices`,
    );
    expect(useStore.getState().notices).toStrictEqual([
      'Link: The link gives v more than once; the first value was used.',
    ]);
    expect(updates).toBe(1);
    expect(ms).toBeLessThan(2000);
    expect(mb).toBeLessThan(100);

    // Own entries only: 'constructor' is no built-in model or pack, and nothing but the pack list is fetched.
    await vi.waitFor(() => expect(useStore.getState().data.status).toBe('error'));
    expect(useStore.getState().model).toMatchObject({
      status: 'error',
      message: "there is no built-in model 'constructor'",
    });
    expect(useStore.getState().data.message).toBe("constructor: there is no built-in dataset 'constructor'");
    expect(fetched).toStrictEqual(['/packs/index.json']);
  });
});
