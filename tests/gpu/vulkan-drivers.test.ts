// The Vulkan driver probe (src/gpu/vulkan-drivers.ts): the reasons it gives for the messages Dawn for
// Node and the Vulkan loader really print (captured on Debian 12 with mesa-vulkan-drivers, Dawn from
// webgpu 0.6.2), driver names from manifest file names, and the manifests it finds in the loader's order.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { driverName, namesDrivers, skipReason, vulkanDriverFiles } from '../../src/gpu/vulkan-drivers.ts';

/** stderr of `VK_ICD_FILENAMES=<manifest> node -e "require('webgpu').create([]).requestAdapter()…"`. */
const CAPTURED = {
  lavapipe: `Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.
 - While initializing adapter (backend=BackendType::Vulkan)
    at InitializeImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)

`,
  // The intel, intel_hasvk and radeon drivers on a machine without their GPU.
  noDevice: `Error: Loader Message: setup_loader_term_phys_devs:  Failed to detect any valid GPUs in the current config
Warning: vkEnumeratePhysicalDevices
    at GatherPhysicalDevices (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/VulkanInfo.cpp:147)

`,
  missingManifest: `Warning: loader_get_json: Failed to open JSON file /nonexistent.json
Warning: vkCreateInstance: Found no drivers!
Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER
    at CheckVkSuccessImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/VulkanError.cpp:106)

`,
};

describe('skipReason', () => {
  it("turns Dawn's and the loader's real messages into short words", () => {
    expect(skipReason(CAPTURED.lavapipe)).toBe('Dawn needs shaderUniform*ArrayDynamicIndexing');
    expect(skipReason(CAPTURED.noDevice)).toBe('no device for this driver');
    expect(skipReason(CAPTURED.missingManifest)).toBe("the Vulkan loader cannot read the driver's .json file");
  });

  it('keeps the first message line of one it does not know, without its prefix or stack', () => {
    const text = `Error: Loader Message: loader_scanned_icd_add: Could not get 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr' for ICD libfoo.so
    at Somewhere (file.cpp:1)
`;
    expect(skipReason(text)).toBe(
      "loader_scanned_icd_add: Could not get 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr' for ICD libfoo.so",
    );
    expect(skipReason('')).toBe('Dawn made no adapter of it, and said nothing');
  });
});

describe('driverName', () => {
  it('names a driver by its manifest, spelling out the ones whose name says little', () => {
    expect(driverName('/usr/share/vulkan/icd.d/lvp_icd.x86_64.json')).toBe('lavapipe (Mesa llvmpipe)');
    expect(driverName('/usr/share/vulkan/icd.d/intel_hasvk_icd.x86_64.json')).toBe('intel_hasvk');
    expect(driverName('/usr/share/vulkan/icd.d/radeon_icd.aarch64.json')).toBe('radeon');
    expect(driverName('/usr/share/vulkan/icd.d/nvidia_icd.json')).toBe('nvidia');
    expect(driverName('/usr/lib/chromium/vk_swiftshader_icd.json')).toBe('SwiftShader');
  });
});

describe('vulkanDriverFiles', () => {
  const root = mkdtempSync(join(tmpdir(), 'stochca-icd-'));
  /** `root/<folder>/vulkan/icd.d/<name>` for each name; returns the paths. */
  const manifests = (folder: string, ...names: string[]) => {
    const dir = join(root, folder, 'vulkan/icd.d');
    mkdirSync(dir, { recursive: true });
    return names.map((n) => {
      writeFileSync(join(dir, n), '{}');
      return join(dir, n);
    });
  };
  const [userConfig] = manifests('config', 'mine_icd.json');
  const [systemB, systemA] = manifests('share', 'b_icd.json', 'a_icd.json');
  manifests('share', 'notes.txt');
  const [extra] = manifests('extra', 'extra_icd.json');
  const search = {
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_CONFIG_DIRS: join(root, 'none'),
    XDG_DATA_HOME: join(root, 'none'),
    XDG_DATA_DIRS: `${join(root, 'none')}:${join(root, 'share')}`,
  };

  it("lists the .json files of the loader's folders, config before data, each folder's by name", () => {
    // /etc/vulkan/icd.d is searched too: its files (none on most machines) come between the two.
    const found = vulkanDriverFiles(search).filter((f) => f.startsWith(root));
    expect(found).toEqual([userConfig, systemA, systemB]);
    expect(namesDrivers(search)).toBe(false);
  });

  it('takes only the files or folders VK_DRIVER_FILES or VK_ICD_FILENAMES name, after VK_ADD_DRIVER_FILES', () => {
    const missing = join(root, 'missing.json');
    const named = { ...search, VK_ICD_FILENAMES: `${missing}:${join(root, 'share/vulkan/icd.d')}` };
    expect(vulkanDriverFiles(named)).toEqual([missing, systemA, systemB]);
    expect(namesDrivers(named)).toBe(true);
    // The newer name wins over the older one, as in the loader.
    expect(vulkanDriverFiles({ ...named, VK_DRIVER_FILES: userConfig, VK_ADD_DRIVER_FILES: extra })).toEqual([
      extra,
      userConfig,
    ]);
  });
});
