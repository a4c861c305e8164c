// Native anchors: runs bench/python/anchors.py (numpy + OpenBLAS) once per `npm run bench`,
// before the gradcov suites, when python3 with numpy is present; otherwise says why and
// returns null, and the suites print no numpy column.
//
// The numpy process gets OPENBLAS_NUM_THREADS=1 (gradcov is single-threaded) and runs
// without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: this machine sets them for old OpenBLAS
// builds, and they would pin a current numpy to an older, slower kernel. The kernel
// OpenBLAS then picks is read back (anchors.openblas.coreType) and printed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./python/anchors.py', import.meta.url));

/** The anchors' JSON for the wanted suites, or null (with a printed note) when unavailable. */
export function runAnchors(wanted) {
  if (process.env.BENCH_NO_NUMPY === '1') {
    console.log('numpy anchors: skipped (BENCH_NO_NUMPY=1)');
    return null;
  }
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const probe = spawnSync('python3', ['-c', 'import numpy'], { env, encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.log(`numpy anchors: skipped (${probe.error ? 'python3 not found' : 'python3 has no numpy'}); the tables show gradcov alone.`);
    return null;
  }
  const suites = wanted.filter((w) => ['covariance', 'normals', 'spectral', 'gradients'].includes(w));
  if (suites.length === 0) return null;
  console.log(`numpy anchors: running bench/python/anchors.py ${suites.join(' ')} ...`);
  const r = spawnSync('python3', [SCRIPT, ...suites], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`numpy anchors: failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
    return null;
  }
  const anchors = JSON.parse(r.stdout);
  // for comparison with earlier reports: G'G as the machine's setting runs it (e.g. Haswell)
  if (process.env.OPENBLAS_CORETYPE && suites.includes('covariance')) {
    const m = spawnSync('python3', [SCRIPT, 'covariance'], { env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, encoding: 'utf8' });
    if (m.status === 0) {
      const j = JSON.parse(m.stdout);
      anchors.covarianceMachineCore = { coreType: j.openblas?.coreType, covariance: j.covariance };
    }
  }
  const o = anchors.openblas ?? {};
  console.log(`numpy ${anchors.numpy} (Python ${anchors.python}), OpenBLAS core ${o.coreType ?? '?'}, ${o.threads ?? '?'} thread(s): ${o.config ?? ''}`);
  return anchors;
}
