// The training benchmark page (bench/train.html). tfjs-core alone registers no gradient
// functions; the tfjs union package imports these, after tfjs-core itself, whose flags they read.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { serveSuite } from './suite-page.ts';
import { trainSuite } from './train.ts';

await serveSuite(trainSuite);
