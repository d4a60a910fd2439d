// The Node device (Dawn): finds an adapter by itself, and says what to install when there is none.
// Only adapter and device creation run here: see README ("Node and SwiftShader") for why kernels are
// tested in Chromium. Dawn is loaded in a child process, never in the test worker: the child prints
// its answer and is ended then, so a Dawn that is slow to exit cannot hold up the suite.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs `body` (TypeScript, with requestNodeGpu imported) in a child; resolves with what it passes to `answer`. */
function inChild(body: string, env: Record<string, string> = {}): Promise<unknown> {
  const script = `
    import { requestNodeGpu } from './src/gpu/device-node.ts';
    const answer = (x) => console.log('ANSWER ' + JSON.stringify(x));
    (async () => { ${body} })();`;
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', '--eval', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no answer in 60 s; stdout: ${out} stderr: ${err}`));
    }, 60_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('ANSWER '));
      if (!line) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(JSON.parse(line.slice('ANSWER '.length)));
    });
    child.on('exit', (code) => {
      if (!out.includes('ANSWER ')) {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} without an answer; stderr: ${err}`));
      }
    });
  });
}

const describeAdapter = `
  const software = (gpu) => /swiftshader/i.test(gpu.adapter.architecture + ' ' + gpu.adapter.description);
  const facts = (gpu) => ({ name: gpu.adapter.vendor + ' ' + gpu.adapter.description, maxBufferSize: gpu.adapter.limits.maxBufferSize,
    software: software(gpu), fallback: gpu.adapter.fallback, layout: gpu.layout.name });`;

describe('Node device', () => {
  it('finds an adapter without any setting (SwiftShader when there is no GPU)', async () => {
    const a = (await inChild(
      `${describeAdapter}
      const gpu = await requestNodeGpu();
      answer(facts(gpu));`,
      { STOCHCA_LAYOUT: '' },
    )) as { name: string; maxBufferSize: number; software: boolean; fallback: boolean; layout: string };
    expect(a.name).toMatch(/\S/);
    expect(a.maxBufferSize).toBeGreaterThan(0);
    if (a.software) expect(a.fallback).toBe(true); // Dawn marks SwiftShader as a fallback adapter
    expect(a.layout).toBe(a.software ? 'cpu' : 'gpu');
  });

  it('takes the kernel layout STOCHCA_LAYOUT forces, and refuses any other value naming the allowed ones', async () => {
    expect(
      await inChild(
        `
      const gpu = await requestNodeGpu();
      answer(gpu.layout.name);`,
        { STOCHCA_LAYOUT: 'gpu' },
      ),
    ).toBe('gpu');
    expect(
      await inChild(
        `
      requestNodeGpu().then(() => answer('found'), (e) => answer(e.message));`,
        { STOCHCA_LAYOUT: 'fast' },
      ),
    ).toBe("STOCHCA_LAYOUT must be gpu or cpu, got 'fast'");
  });

  it('says which Vulkan driver failed when none works', async () => {
    expect(
      await inChild(
        `
      requestNodeGpu('swiftshader').then(() => answer('found'), (e) => answer(e.name + ': ' + e.message));`,
        { VK_ICD_FILENAMES: '/nonexistent/icd.json' },
      ),
    ).toBe('NoWebGPUError: Dawn found no adapter with the Vulkan driver /nonexistent/icd.json.');
  });
});
