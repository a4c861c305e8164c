// Oracles that lie or die (issue 20 class 4): estimateCurvature reports the first failure at
// once even while other calls hang (a rejection, a per-call timeout, an AbortSignal), frees
// what it holds, refuses an asynchronous oracle that resolves calls in flight at once with
// one buffer, and describes any thrown value or lying answer (a string, a null-prototype
// object, a revoked Proxy, a Proxy of a typed array, a lying subclass, a throwing `then`)
// naming the batch and the draw. Every row runs under each estimator shape (dense
// calibrated, dense paired, two-level, sketched) and concurrency 1 and 4.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { wasmLiveBytes } from '../../src/core/wasm.js';
import { setup, normals, assertSameValues } from '../helpers/helpers.js';

test.before(async () => {
  await setup();
  await g.estimateCurvature(ok, base); // allocates the module's one target-noise scratch block, kept for the process
});

const dim = 3;
const ok = (req: g.GradientRequest) => normals(dim, req.batch * 2 + req.draw + 1);
const never = () => new Promise<Float64Array>(() => undefined);
const SHAPES: [string, Partial<g.CurvatureOptions>][] = [
  ['calibrated', {}],
  ['paired', { method: 'paired' }],
  ['two-level', { method: 'two-level' }],
  ['sketched', { method: 'paired', sketch: { size: 2, k: 1 } }],
];
const base = { dim, batchSize: 4, batches: 40, seed: 1 };

/** The settled outcome of an estimate, or 'hung' when it has not settled within `ms` (a guard, not a timing claim). */
async function outcome(p: Promise<unknown>, ms = 5000): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise((r) => {
    timer = setTimeout(() => r('hung'), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function expectError(got: unknown, Kind: typeof Error, pattern: RegExp, label: string): void {
  assert.ok(
    got instanceof Kind && pattern.test((got as Error).message),
    `${label}: ${got instanceof Error ? `${got.name}: ${got.message}` : String(got)}`,
  );
}

// a revoked Proxy: every operation on it throws
const revoked = (() => {
  const r = Proxy.revocable({}, {});
  r.revoke();
  return r.proxy;
})();
class LyingLength extends Float64Array {
  override get length(): number {
    return dim;
  }
}
const nullProto = Object.assign(Object.create(null) as object, { code: 7 });
const messageThrows = new Error('x');
Object.defineProperty(messageThrows, 'message', {
  get() {
    throw new Error('no message for you');
  },
});

test('failures while other calls hang: the first is reported at once, naming the batch and draw, and the memory is freed', async () => {
  const rows: [
    string,
    (hangOn: (r: g.GradientRequest) => boolean) => g.GradientOracle,
    Partial<g.CurvatureOptions>,
    typeof Error,
    RegExp,
  ][] = [
    [
      'a rejection',
      (hang) => async (r) =>
        hang(r) ? never() : r.batch === 9 ? Promise.reject(new Error('disk on fire')) : ok(r),
      {},
      Error,
      /batch 9 \(draw 0\): disk on fire/,
    ],
    [
      'a synchronous throw',
      (hang) => (r) => {
        if (r.batch === 9) throw new Error('boom');
        return hang(r) ? never() : ok(r);
      },
      {},
      Error,
      /batch 9 \(draw 0\): boom/,
    ],
    [
      'a wrong answer',
      (hang) => (r) => (hang(r) ? never() : r.batch === 9 ? Promise.resolve(new Float64Array(1)) : ok(r)),
      {},
      RangeError,
      /batch 9 \(draw 0\) must have length dim \(3\)/,
    ],
    [
      'a timeout',
      (hang) => async (r) => (hang(r) || r.batch === 9 ? never() : ok(r)),
      { timeout: 30 },
      Error,
      /did not answer batch (0|9) \(draw 0\) within the timeout of 30 ms/,
    ],
  ];
  for (const [shape, extra] of SHAPES) {
    for (const [label, make, opts, Kind, pattern] of rows) {
      for (const concurrency of [1, 4]) {
        // with concurrency 1 nothing else is in flight: the failing call is the only one (batch 0 never hangs there)
        const hangOn = (r: g.GradientRequest) => concurrency > 1 && r.batch === 0;
        const before = wasmLiveBytes();
        const got = await outcome(
          g.estimateCurvature(make(hangOn), { ...base, ...extra, ...opts, concurrency }),
        );
        const where = `${shape}, ${label}, concurrency ${concurrency}`;
        expectError(got, Kind, pattern, where);
        assert.is(wasmLiveBytes(), before, `${where}: the accumulators are freed while a call still hangs`);
      }
    }
  }
});

test('signal: an abort rejects at once with an AbortError (cause: the reason), hanging calls are abandoned, memory freed; an aborted signal calls nothing', async () => {
  for (const [shape, extra] of SHAPES) {
    for (const concurrency of [1, 4]) {
      const controller = new AbortController();
      let calls = 0;
      const oracle: g.GradientOracle = (r) => {
        calls++;
        if (r.batch === 5) setTimeout(() => controller.abort(new Error('user cancelled')), 1);
        return r.batch >= 5 ? never() : ok(r);
      };
      const before = wasmLiveBytes();
      const got = await outcome(
        g.estimateCurvature(oracle, { ...base, ...extra, concurrency, signal: controller.signal }),
      );
      const where = `${shape}, concurrency ${concurrency}`;
      expectError(got, Error, /aborted by `signal` \(user cancelled\)/, where);
      assert.is((got as Error).name, 'AbortError', where);
      assert.is(((got as Error).cause as Error).message, 'user cancelled', where);
      assert.is(wasmLiveBytes(), before, `${where}: freed`);
      assert.ok(calls <= 2 * 6 + 2 * concurrency, `${where}: no new calls after the abort (${calls})`);
    }
    let calls = 0;
    const got = await outcome(
      g.estimateCurvature(
        () => {
          calls++;
          return new Float64Array(dim);
        },
        { ...base, ...extra, signal: AbortSignal.abort() },
      ),
    );
    expectError(got, Error, /aborted by `signal`/, `${shape}: already aborted`);
    assert.is(calls, 0, `${shape}: an aborted signal calls nothing`);
  }
  // a signal that never aborts and a generous timeout change nothing: the same bits, and no listener is left behind
  const controller = new AbortController();
  const plain = await g.estimateCurvature(ok, { ...base, method: 'paired' });
  const guarded = await g.estimateCurvature(async (r) => ok(r), {
    ...base,
    method: 'paired',
    signal: controller.signal,
    timeout: 60_000,
  });
  assertSameValues(guarded.hessian, plain.hessian, 'signal and timeout do not change the estimate');
  controller.abort(); // after the estimate: nothing listens, nothing rejects unhandled
});

test('an asynchronous oracle resolving calls in flight at once with one buffer is refused; sequential or synchronous reuse is fine', async () => {
  const plain = await g.estimateCurvature(ok, { ...base, method: 'paired' });
  const shared = new Float64Array(dim);
  const whole = new Float64Array(4 * dim);
  const rows: [string, g.GradientOracle, number, 'refused' | 'same'][] = [
    [
      'one buffer, 4 in flight',
      async (r) => {
        await new Promise((res) => setTimeout(res, r.batch % 2));
        shared.set(ok(r));
        return shared;
      },
      4,
      'refused',
    ],
    [
      'new views of one buffer, 4 in flight',
      async (r) => {
        await Promise.resolve();
        const v = new Float64Array(shared.buffer);
        v.set(ok(r));
        return v;
      },
      4,
      'refused',
    ],
    [
      'one buffer, one at a time',
      async (r) => {
        await Promise.resolve();
        shared.set(ok(r));
        return shared;
      },
      1,
      'same',
    ],
    [
      'disjoint slices of one buffer, 4 in flight',
      async (r) => {
        const i = r.batch % 4;
        await Promise.resolve();
        const v = whole.subarray(i * dim, (i + 1) * dim);
        v.set(ok(r));
        return v;
      },
      4,
      'same',
    ],
    [
      'one buffer, synchronous',
      (r) => {
        shared.set(ok(r));
        return shared;
      },
      4,
      'same',
    ],
  ];
  for (const [shape, extra] of SHAPES) {
    for (const [label, oracle, concurrency, want] of rows) {
      const where = `${shape}: ${label}`;
      const got = await outcome(g.estimateCurvature(oracle, { ...base, ...extra, concurrency }));
      if (want === 'refused')
        expectError(
          got,
          TypeError,
          /is the same memory as its gradient for batch \d+ \(draw [01]\), and both calls were in flight at once/,
          where,
        );
      else assert.is(got, 'resolved', `${where}: ${String(got)}`);
    }
  }
  // the disjoint slices with 4 in flight: batch b uses slice b % 4, and at most 4 calls are in flight, but
  // batches 0 and 4 may overlap in time: same slice, so only the one-lane runs are promised equal here
  const seq = await g.estimateCurvature(rows[2]![1], { ...base, method: 'paired', concurrency: 1 });
  assertSameValues(seq.hessian, plain.hessian, 'sequential reuse gives the plain estimate');
});

test('what an oracle throws or returns, however odd, gives a clear error naming the batch and draw', async () => {
  const at = (r: g.GradientRequest) => r.batch === 6 && r.draw === 0;
  const rows: [string, g.GradientOracle, typeof Error, RegExp][] = [
    [
      'throws a string',
      (r) => {
        if (at(r)) throw 'quota exceeded';
        return ok(r);
      },
      Error,
      /batch 6 \(draw 0\): it threw the string "quota exceeded" \(not an Error\)/,
    ],
    [
      'rejects with a string',
      async (r) => {
        if (at(r)) throw 'quota exceeded';
        return ok(r);
      },
      Error,
      /batch 6 \(draw 0\): it threw the string "quota exceeded"/,
    ],
    [
      'throws a null-prototype object',
      (r) => {
        if (at(r)) throw nullProto;
        return ok(r);
      },
      Error,
      /batch 6 \(draw 0\): it threw \[object Object\] \(not an Error\)/,
    ],
    [
      'rejects with null',
      async (r) => {
        if (at(r)) throw null;
        return ok(r);
      },
      Error,
      /batch 6 \(draw 0\): it threw null/,
    ],
    [
      'throws a revoked Proxy',
      (r) => {
        if (at(r)) throw revoked;
        return ok(r);
      },
      Error,
      /batch 6 \(draw 0\): it threw an object that cannot be inspected/,
    ],
    [
      'throws an Error whose message getter throws',
      (r) => {
        if (at(r)) throw messageThrows;
        return ok(r);
      },
      Error,
      /batch 6 \(draw 0\): it threw \[object Error\]/,
    ],
    [
      'returns a Proxy of a Float64Array',
      (r) => (at(r) ? new Proxy(new Float64Array(dim), {}) : ok(r)),
      TypeError,
      /batch 6 \(draw 0\) must be a Float64Array or Float32Array\. Value: an object posing as a typed array/,
    ],
    [
      'resolves to a Proxy of a Float32Array',
      async (r) => (at(r) ? new Proxy(new Float32Array(dim), {}) : ok(r)),
      TypeError,
      /batch 6 \(draw 0\) must be a Float64Array or Float32Array/,
    ],
    [
      'returns a revoked Proxy',
      (r) => (at(r) ? (revoked as never) : ok(r)),
      Error,
      /batch 6 \(draw 0\): Cannot perform 'get' on a proxy that has been revoked/,
    ],
    [
      'returns a subclass lying about its length',
      (r) => (at(r) ? new LyingLength(1) : ok(r)),
      RangeError,
      /batch 6 \(draw 0\) must have length dim \(3\)\. Value: length 1/,
    ],
    [
      'returns a thenable whose then getter throws',
      (r) =>
        at(r)
          ? ({
              get then() {
                throw new Error('then trap');
              },
            } as never)
          : ok(r),
      Error,
      /batch 6 \(draw 0\): then trap/,
    ],
    [
      'returns a thenable whose then throws',
      (r) =>
        at(r)
          ? ({
              then() {
                throw 'bad then';
              },
            } as never)
          : ok(r),
      Error,
      /batch 6 \(draw 0\): it threw the string "bad then"/,
    ],
    [
      'returns a number',
      (r) => (at(r) ? (3 as never) : ok(r)),
      TypeError,
      /batch 6 \(draw 0\) must be a Float64Array or Float32Array\. Value: `3`/,
    ],
  ];
  for (const [shape, extra] of SHAPES) {
    for (const [label, oracle, Kind, pattern] of rows) {
      for (const concurrency of [1, 4]) {
        const before = wasmLiveBytes();
        const got = await outcome(g.estimateCurvature(oracle, { ...base, ...extra, concurrency }));
        const where = `${shape}, ${label}, concurrency ${concurrency}`;
        expectError(got, Kind, pattern, where);
        assert.is(wasmLiveBytes(), before, `${where}: freed`);
      }
    }
  }
  // a subclass whose getters lie but whose memory is right is read truthfully (its own memory, not its getters)
  class Liar extends Float64Array {
    override get byteOffset(): number {
      return 8;
    }
    override get buffer(): ArrayBuffer {
      return new ArrayBuffer(64);
    }
  }
  const plain = await g.estimateCurvature(ok, { ...base, method: 'paired' });
  const lied = await g.estimateCurvature(
    (r) => {
      const v = new Liar(dim);
      v.set(ok(r));
      return v;
    },
    { ...base, method: 'paired' },
  );
  assertSameValues(lied.hessian, plain.hessian, 'lying getters are not used');
});

test('signal and timeout options: bad values are refused naming the option, before the oracle is called', async () => {
  let calls = 0;
  const oracle = () => {
    calls++;
    return new Float64Array(dim);
  };
  const rows: [unknown, unknown, typeof Error, RegExp][] = [
    ['signal', {}, TypeError, /`signal` must be an AbortSignal\. Value: `\[object Object\]`/],
    ['signal', true, TypeError, /`signal` must be an AbortSignal/],
    ['signal', null, TypeError, /`signal` must be an AbortSignal\. Value: `null`/],
    ['timeout', 0, RangeError, /`timeout` must be > 0 and at most 2147483647 ms/],
    ['timeout', -5, RangeError, /`timeout` must be > 0/],
    ['timeout', 2 ** 31, RangeError, /at most 2147483647 ms.*Value: `2147483648`/],
    ['timeout', NaN, TypeError, /`timeout` must be a number of milliseconds\. Value: `NaN`/],
    ['timeout', '100', TypeError, /`timeout` must be a number of milliseconds\. Value: `"100"`/],
  ];
  for (const [key, value, Kind, pattern] of rows) {
    const got = await outcome(g.estimateCurvature(oracle, { ...base, [key as string]: value }));
    expectError(got, Kind, pattern, `${String(key)} ${String(value)}`);
  }
  assert.is(calls, 0);
  assert.is(
    (await g.estimateCurvature(async () => new Float64Array(dim), { ...base, timeout: Infinity })).batches,
    base.batches,
    'timeout Infinity: no limit',
  );
});

test.run();
