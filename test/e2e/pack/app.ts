// A user's TypeScript file, type-checked (strict) against the types in the packed tarball.
import {
  init,
  wasmModule,
  Rng,
  GradientCovariance,
  estimateHessian,
  operatorNorm,
  syntheticRegression,
  type WasmSource,
  type WasmModule,
} from 'gradcov';
import { init as initInline } from 'gradcov/inline';
import { createEstimatorPool as nodePool, type EstimatorPool } from 'gradcov/node-workers';
import { createEstimatorPool as webPool } from 'gradcov/web-workers';
import { init as initStandalone, createEstimatorPool as standalonePool } from 'gradcov/standalone';

export async function pools(): Promise<EstimatorPool[]> {
  return [
    await nodePool({ workers: 1 }),
    await webPool({ workers: 1 }),
    await standalonePool({ workers: 1 }),
  ];
}

export async function main(source?: WasmSource): Promise<number> {
  await init(source);
  await initInline();
  await initStandalone();
  const module: WasmModule = wasmModule();
  const z: Float64Array = new Rng(1, 2).normals(new Float64Array(8));
  const { data, wStar } = syntheticRegression({ dim: 3, rows: 100, seed: 1 });
  const acc = new GradientCovariance(3);
  acc.addBatch(new Float32Array(6));
  const { hessian, noiseVariance } = estimateHessian(data, wStar, { batchSize: 8, batches: 50, seed: 2 });
  acc.dispose();
  // @ts-expect-error init() takes no string
  await init('gradcov.wasm');
  // @ts-expect-error the estimate needs a batch size
  estimateHessian(data, wStar, { batches: 50, seed: 2 });
  return operatorNorm(hessian, 3).value + noiseVariance + z[0]! + (module ? 1 : 0);
}
