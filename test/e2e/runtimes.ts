// Shared by the runtime tests: the reference summary (the conformance script in a plain
// Node process, computed once per test process), plausibility checks on a summary, and
// small process helpers.
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CONFORMANCE = fileURLToPath(new URL('./conformance/', import.meta.url));
export const BIN = fileURLToPath(new URL('../../node_modules/.bin/', import.meta.url));

export interface Summary {
  normals: { count: number; fnv1a: string; first: number; last: number; mean: number };
  covariance: { count: number; fnv1a: string; mean: string; c00: number; relativeError: number };
  estimate: { noiseVariance: number; fnv1a: string; h00: number; relativeError: number };
  operatorNorm: { value: number; iterations: number; converged: boolean };
  data: { X: string; y: string; H: string };
}

/** Runs a command and parses the last line of its output as JSON. */
export function runJson<T = Summary>(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): T {
  const out = execFileSync(cmd, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, encoding: 'utf8', timeout: 120_000 });
  const last = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${cmd} ${args.join(' ')} printed no JSON line:\n${out}`);
  }
}

let reference: Summary | undefined;

/** The summary from Node's main thread, the one every other runtime must reproduce bit for bit. */
export function referenceSummary(): Summary {
  reference ??= runJson(process.execPath, [`${CONFORMANCE}cli.js`]);
  return reference;
}

/**
 * Checks that a summary is plausible, not just equal to another: 10^5 standard normals
 * have |mean| < 4.5 / sqrt(10^5) ~ 0.014 (4.5 sigma); the calibrated estimates are within
 * 0.15 relative error of H (sampling error ~ sqrt(r/m) ~ 0.03-0.05 for these sizes, plus
 * the error of H's own estimate); H's norm is about its largest eigenvalue 256, and power
 * iteration converges.
 */
export function assertPlausible(s: Summary): void {
  assert.is(s.normals.count, 100000);
  assert.ok(Math.abs(s.normals.mean) < 0.014, `normals mean ${s.normals.mean}`);
  assert.is(s.covariance.count, 1200);
  assert.ok(s.covariance.relativeError < 0.15, `covariance error ${s.covariance.relativeError}`);
  assert.is(s.estimate.noiseVariance, 31);
  assert.ok(s.estimate.relativeError < 0.15, `estimate error ${s.estimate.relativeError}`);
  assert.ok(s.operatorNorm.converged);
  assert.ok(Math.abs(s.operatorNorm.value / 256 - 1) < 0.2, `norm ${s.operatorNorm.value}`);
}

/** Equal to the reference summary, every number to the last bit (JSON keeps doubles exactly). */
export function assertSameAsReference(s: unknown, where: string): void {
  assert.equal(s, referenceSummary(), `${where} differs from Node's main thread`);
}
