// `stochca info [--json]`: the adapter the engine gets, its limits and features, where the
// engine runs and which kernel layout it uses (STOCHCA_HOST and STOCHCA_LAYOUT change the last two),
// and the Vulkan drivers Dawn for Node left out, with why (also when the engine runs in Chromium).
import { skippedNodeDrivers, type SkippedDriver } from '../gpu/device-node.ts';
import type { AdapterSummary } from '../gpu/gpu.ts';
import type { LayoutName } from '../gpu/layout.ts';
import { openEngineHost, type EngineHost } from './engine-host.ts';

export interface InfoReport {
  layout: LayoutName;
  host: EngineHost['kind'];
  adapter: Pick<AdapterSummary, 'vendor' | 'architecture' | 'device' | 'description'>;
  fallback: boolean;
  /** The limits the engine raises to the adapter's maximum. */
  limits: AdapterSummary['limits'];
  features: string[];
  /** The Vulkan drivers Dawn for Node left out (Linux; none elsewhere). */
  skipped: SkippedDriver[];
}

export async function infoReport(host: EngineHost): Promise<InfoReport> {
  const { adapter: a, layout } = await host.call('info');
  return {
    layout,
    host: host.kind,
    adapter: { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description },
    fallback: a.fallback,
    limits: a.limits,
    features: a.features,
    // The choice openEngineHost makes: any adapter when STOCHCA_HOST=node, else a hardware one.
    skipped: await skippedNodeDrivers(process.env.STOCHCA_HOST === 'node' ? 'auto' : 'hardware'),
  };
}

const HOSTS: Record<InfoReport['host'], string> = { node: 'Dawn in this Node process', chromium: 'headless Chromium' };

export function formatInfo(r: InfoReport): string {
  const rows: [string, string][] = [
    ...Object.entries(r.adapter).map(([k, v]): [string, string] => [k, v || '(none)']),
    ['fallback', r.fallback ? 'yes (WebGPU on the CPU or another slow path)' : 'no'],
    ['host', `${r.host} (${HOSTS[r.host]})`],
    ['skipped', r.skipped.length ? 'Vulkan drivers Dawn for Node left out:' : 'none'],
    ...r.skipped.map((s): [string, string] => [`  ${s.driver}`, `${s.reason} (${s.icd})`]),
    ['layout', `${r.layout} (kernel workgroup shapes; STOCHCA_LAYOUT=gpu|cpu forces one)`],
    ['features', r.features.join(', ') || 'none'],
    ['limits', ''],
    ...Object.entries(r.limits).map(([k, v]): [string, string] => [`  ${k}`, v.toLocaleString('en-US')]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${k.padEnd(width)}${v}`.trimEnd()).join('\n');
}

/** Prints the report: in words, or as one JSON object. */
export async function info(json: boolean): Promise<void> {
  const host = await openEngineHost();
  try {
    const r = await infoReport(host);
    console.log(json ? JSON.stringify(r) : formatInfo(r));
  } finally {
    await host.close();
  }
}
