// The Node device (Dawn): finds an adapter by itself, and says what to install when there is none.
// Only adapter and device creation run here: see README ("Node and SwiftShader") for why kernels are
// tested in Chromium. Dawn is loaded in a child process, never in the test worker: the child prints
// its answer and is ended then, so a Dawn that is slow to exit cannot hold up the suite. The child's
// stderr is kept: Dawn in it must say nothing about the Vulkan drivers it refuses.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LAVAPIPE_ICD, NO_LAVAPIPE } from '../helpers/mesa.ts';

/**
 * Runs `body` (TypeScript, with requestNodeGpu and skippedNodeDrivers imported) in a child; resolves
 * with what it passes to `answer`, and with all the child wrote on stderr until then.
 */
function inChild(body: string, env: Record<string, string> = {}): Promise<{ answer: unknown; stderr: string }> {
  // The marker on stderr comes after everything written there before the answer.
  const script = `
    import { requestNodeGpu, skippedNodeDrivers } from './src/gpu/device-node.ts';
    const answer = (x) => { console.log('ANSWER ' + JSON.stringify(x)); console.error('ANSWERED'); };
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
    const settle = () => {
      const line = out.split('\n').find((l) => l.startsWith('ANSWER '));
      if (!line || !err.includes('ANSWERED\n')) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ answer: JSON.parse(line.slice('ANSWER '.length)), stderr: err.replace('ANSWERED\n', '') });
    };
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      settle();
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      settle();
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
  it('finds an adapter without any setting (SwiftShader when there is no GPU), saying nothing on stderr', async () => {
    const { answer, stderr } = await inChild(
      `${describeAdapter}
      const gpu = await requestNodeGpu();
      answer(facts(gpu));`,
      { STOCHCA_LAYOUT: '' },
    );
    const a = answer as { name: string; maxBufferSize: number; software: boolean; fallback: boolean; layout: string };
    expect(a.name).toMatch(/\S/);
    expect(a.maxBufferSize).toBeGreaterThan(0);
    if (a.software) expect(a.fallback).toBe(true); // Dawn marks SwiftShader as a fallback adapter
    expect(a.layout).toBe(a.software ? 'cpu' : 'gpu');
    expect(stderr).toBe('');
  });

  it('takes the kernel layout STOCHCA_LAYOUT forces, and refuses any other value naming the allowed ones', async () => {
    const forced = await inChild(
      `
      const gpu = await requestNodeGpu();
      answer(gpu.layout.name);`,
      { STOCHCA_LAYOUT: 'gpu' },
    );
    expect(forced.answer).toBe('gpu');
    const refused = await inChild(
      `
      requestNodeGpu().then(() => answer('found'), (e) => answer(e.message));`,
      { STOCHCA_LAYOUT: 'fast' },
    );
    expect(refused.answer).toBe("STOCHCA_LAYOUT must be gpu or cpu, got 'fast'");
  });

  it('says which Vulkan driver failed when none works, and why, in its own words only', async () => {
    const { answer, stderr } = await inChild(
      `
      requestNodeGpu('swiftshader').then(() => answer('found'), (e) => answer(e.name + ': ' + e.message));`,
      { VK_ICD_FILENAMES: '/nonexistent/icd.json' },
    );
    expect(answer).toBe(
      "NoWebGPUError: Dawn found no adapter with the Vulkan driver /nonexistent/icd.json: the Vulkan loader cannot read the driver's .json file.",
    );
    expect(stderr).toBe('');
  });

  it('leaves out the drivers Dawn refuses, saying why in the error and the list, and nothing on stderr', async ({
    skip,
  }) => {
    if (!LAVAPIPE_ICD) return skip(NO_LAVAPIPE);
    // Dawn alone, as the command ran it before: the driver writes on stderr (else this test would prove nothing).
    const raw = await inChild(
      `
      const { create } = await import('webgpu');
      answer(Boolean(await create([]).requestAdapter()));`,
      { VK_ICD_FILENAMES: LAVAPIPE_ICD },
    );
    expect(raw.stderr).toMatch(/\S/);

    const { answer, stderr } = await inChild(
      `
      const found = await requestNodeGpu('hardware').then((gpu) => gpu.adapter.description, (e) => e.message);
      answer({ found, skipped: await skippedNodeDrivers('hardware') });`,
    );
    const { found, skipped } = answer as { found: string; skipped: { driver: string; icd: string; reason: string }[] };
    const lavapipe = skipped.find((s) => s.icd === LAVAPIPE_ICD);
    expect(lavapipe?.driver).toBe('lavapipe (Mesa llvmpipe)');
    expect(lavapipe?.reason).toMatch(/\S/);
    // Without a hardware adapter, the error names each driver left out and why.
    if (found.startsWith('No hardware')) {
      expect(found).toBe(
        `No hardware WebGPU adapter was found by Dawn (skipped: ${skipped.map((s) => `${s.driver}: ${s.reason}`).join('; ')}).`,
      );
    }
    expect(stderr).toBe('');
  });
});
