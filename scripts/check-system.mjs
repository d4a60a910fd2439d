// Checks the system prerequisites before the tests or the dev server start, and
// says in one line how to get what is missing.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const problems = [];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  problems.push(`Node ${process.versions.node} is too old: install Node 20.19 or newer (https://nodejs.org).`);
}
if (process.argv.includes('--tests')) {
  const browsers = [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
  ];
  if (!(process.env.CHROMIUM_PATH ?? browsers.find((p) => existsSync(p)))) {
    problems.push('Chromium is missing (browser tests): sudo apt-get install chromium, or set CHROMIUM_PATH.');
  }
  if (process.platform === 'linux') {
    let loader;
    try {
      loader = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes('libvulkan.so.1');
    } catch {
      loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'].some((p) => existsSync(p));
    }
    if (!loader) problems.push('The Vulkan loader is missing (WebGPU in Node): sudo apt-get install libvulkan1.');
  }
}
if (!existsSync(new URL('../node_modules/vite/package.json', import.meta.url))) {
  problems.push('Dependencies are not installed: run npm ci.');
}
for (const p of problems) console.error(p);
process.exit(problems.length ? 1 : 0);
