// Mesa's lavapipe Vulkan driver, which Debian's libvulkan1 brings as a recommended package and which Dawn
// for Node refuses out loud: the tests that stochca stays quiet about such drivers need it installed.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ICD_DIR = '/usr/share/vulkan/icd.d';

/** lavapipe's manifest (lvp_icd.<arch>.json), or undefined without mesa-vulkan-drivers. */
export const LAVAPIPE_ICD = existsSync(ICD_DIR)
  ? readdirSync(ICD_DIR)
      .filter((f) => f.startsWith('lvp_icd.'))
      .map((f) => join(ICD_DIR, f))[0]
  : undefined;

/** Why a test that needs lavapipe is skipped. */
export const NO_LAVAPIPE = `no lavapipe in ${ICD_DIR}: sudo apt-get install mesa-vulkan-drivers (.ci/run installs it)`;
