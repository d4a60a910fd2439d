// The kernel benchmark page (bench/kernels.html).
import { kernelSuite } from './kernels.ts';
import { serveSuite } from './suite-page.ts';

await serveSuite(kernelSuite);
