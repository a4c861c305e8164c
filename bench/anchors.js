// Native anchors: runs bench/python/anchors.py (numpy + OpenBLAS) once per `npm run bench`,
// before the gradcov suites and alone, when python3 with numpy is present; otherwise says
// why and returns null, and the suites print no numpy column.
//
// The anchors run on one thread (OPENBLAS_NUM_THREADS=1: gradcov is single-threaded) in the
// machine's environment: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE stay as the machine sets
// them (here Haswell, OpenBLAS's AVX2 kernel), which is what the targets are defined
// against. When the machine sets either, G'G and eigvalsh are timed a second time with
// both removed, so that OpenBLAS picks its kernel for this CPU (e.g. SkylakeX, AVX-512):
// `anchors.cpuKernel`, shown as information rows only. The kernel OpenBLAS actually ran is
// read back from the library in each process (anchors.openblas.coreType,
// anchors.cpuKernel.openblas.coreType) and printed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./python/anchors.py', import.meta.url));
const KNOBS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];

/** The environment a run gets: one thread; `cpuKernel` removes the machine's OpenBLAS kernel settings. */
function envFor(cpuKernel) {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  if (cpuKernel) for (const k of KNOBS) delete env[k];
  return env;
}

/** The OpenBLAS settings of the machine's environment, as `NAME=value, ...` (or 'none set'). */
export function machineKnobs() {
  const set = KNOBS.filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  return set.length ? set.join(', ') : 'none set';
}

function runScript(suites, cpuKernel) {
  const r = spawnSync('python3', [SCRIPT, ...suites], {
    env: envFor(cpuKernel),
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0)
    return { error: `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}` };
  return JSON.parse(r.stdout);
}

/** The anchors' JSON for the wanted suites, or null (with a printed note) when unavailable. */
export function runAnchors(wanted) {
  if (process.env.BENCH_NO_NUMPY === '1') {
    console.log('numpy anchors: skipped (BENCH_NO_NUMPY=1)');
    return null;
  }
  const probe = spawnSync('python3', ['-c', 'import numpy'], { env: envFor(false), encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.log(
      `numpy anchors: skipped (${probe.error ? 'python3 not found' : 'python3 has no numpy'}); the tables show gradcov alone.`,
    );
    return null;
  }
  const suites = wanted.filter((w) => ['covariance', 'normals', 'spectral', 'gradients'].includes(w));
  if (suites.length === 0) return null;
  console.log(
    `numpy anchors: running bench/python/anchors.py ${suites.join(' ')} (OpenBLAS settings of this machine: ${machineKnobs()}) ...`,
  );
  const anchors = runScript(suites, false);
  if (anchors.error) {
    console.log(`numpy anchors: failed (${anchors.error})`);
    return null;
  }
  anchors.knobs = machineKnobs();
  const o = anchors.openblas ?? {};
  console.log(
    `numpy ${anchors.numpy} (Python ${anchors.python}), OpenBLAS core ${o.coreType ?? '?'} (${anchors.knobs}), ${o.threads ?? '?'} thread(s): ${o.config ?? ''}`,
  );
  for (const [d, a] of Object.entries(anchors.gradients ?? {}))
    console.log(
      `numpy estimate pipeline, d = ${d}: fastest form ${a.best} (${a.fastest.label}, ${a.fastest.ms.toFixed(1)} ms; the anchor), of ${Object.entries(
        a.forms,
      )
        .map(([k, f]) => `${k} ${f.ms.toFixed(1)} ms`)
        .join(', ')}`,
    );
  // information: the kernel OpenBLAS picks for this CPU when the machine's settings are removed
  const info = ['covariance', 'spectral']
    .filter((s) => suites.includes(s))
    .map((s) => (s === 'spectral' ? 'eigvalsh' : s));
  if (KNOBS.some((k) => process.env[k] !== undefined) && info.length) {
    const cpu = runScript(info, true);
    if (cpu.error)
      console.log(
        `numpy anchors with the CPU's own OpenBLAS kernel: failed (${cpu.error}); no information rows`,
      );
    else {
      anchors.cpuKernel = { openblas: cpu.openblas, covariance: cpu.covariance, spectral: cpu.eigvalsh };
      console.log(
        `numpy information rows: OpenBLAS core ${cpu.openblas?.coreType ?? '?'} with ${KNOBS.join(' and ')} unset (${info.join(', ')})`,
      );
    }
  }
  return anchors;
}
