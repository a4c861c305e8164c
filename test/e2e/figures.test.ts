// Every figure of `experiment all` and of `estimate --out`, checked on its spec as a reviewer
// would (test/helpers/plot-checks.ts): data inside the axes, log axes labelled beyond both
// ends of the data, no two series of a panel with the same colour and marker. The
// experiments run in-process at the small settings of report.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init } from 'gradcov';
import { EXPERIMENTS } from '../../cli/src/experiments/index.js';
import { barAxisTop, heatMaps, lineChart, logAxisTicks, spectrumChart } from '../../cli/src/plots.js';
import { silentProgress } from '../../cli/src/progress.js';
import { figureProblems } from '../helpers/plot-checks.js';

test('the checks catch what the issue found: 12 series on 8 colour/marker pairs, a log axis labelled above its lowest data', () => {
  const data = Array.from({ length: 12 }, (_, s) =>
    [1, 10].map((x) => ({ x, y: 0.024 + s, series: `s${s}` })),
  ).flat();
  const spec = lineChart({
    title: 't',
    data,
    x: { field: 'x', title: 'x' },
    y: { field: 'y', title: 'y' },
    series: 'series',
    legend: 'l',
  });
  assert.ok(
    figureProblems('twelve', spec).some((p) => /share colour \S+ and marker/.test(p)),
    'shared pairs found',
  );
  const log = {
    mark: 'point',
    data: { values: [{ v: 0.024 }, { v: 3 }] },
    encoding: {
      y: {
        field: 'v',
        type: 'quantitative',
        scale: { type: 'log', domain: [0.024, 3] },
        axis: { values: [0.1, 1] },
      },
    },
  };
  assert.ok(figureProblems('log', log).some((p) => /does not cover its data/.test(p)));
  const outside = {
    mark: 'point',
    data: { values: [{ v: 5 }] },
    encoding: { x: { field: 'v', type: 'quantitative', scale: { domain: [0, 4] } } },
  };
  assert.ok(figureProblems('outside', outside).some((p) => /outside the axis domain/.test(p)));
});

test('logAxisTicks: the domain and the labelled ticks reach past both ends of the data', () => {
  for (const [lo, hi] of [
    [0.024, 0.048],
    [0.024, 200],
    [1, 1],
    [0.0813, 17.2],
    [3e-7, 4e5],
    [7, 9],
  ] as const) {
    const { domain, values } = logAxisTicks(lo, hi);
    assert.ok(domain[0] <= lo && domain[1] >= hi, `domain ${domain} covers [${lo}, ${hi}]`);
    assert.ok(values[0]! <= lo && values[values.length - 1]! >= hi, `ticks ${values} cover [${lo}, ${hi}]`);
    assert.ok(values.length >= 2 && values.length <= 16, `${values.length} ticks`);
    assert.ok(domain[1] / domain[0] <= (hi / lo) * 25, 'at most one 1-2-5 step beyond each end');
  }
  assert.equal(logAxisTicks(0.024, 0.048).values, [0.02, 0.05]);
  assert.equal(logAxisTicks(0.0813, 17.2).values, [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20]);
});

test('barAxisTop: the tallest bar ends under a labelled tick', () => {
  assert.is(barAxisTop(3), 3);
  assert.is(barAxisTop(0.37), 0.4);
  assert.is(barAxisTop(3.4), 4);
  assert.is(barAxisTop(117), 120);
  for (const v of [0.0123, 1, 7.7, 999, 1001])
    assert.ok(barAxisTop(v) >= v && barAxisTop(v) <= v * 1.5, `${v} -> ${barAxisTop(v)}`);
});

test('every figure of `experiment all` passes the reviewer checks; unbiased is one panel per input distribution', async () => {
  await init();
  const problems: string[] = [];
  for (const e of EXPERIMENTS) {
    const r = await e.run({
      seed: 7,
      dim: 5,
      rows: 1500,
      batches: 600,
      dims: [5, 8],
      batchesPerDim: 30,
      progress: silentProgress,
    });
    for (const p of r.plots)
      problems.push(...figureProblems(`${r.name}-${p.name}`, p.spec as Record<string, unknown>));
    if (r.name === 'unbiased') {
      const spec = r.plots[0]!.spec as Record<string, any>;
      assert.is(spec.facet.field, 'data');
      assert.equal(
        [...new Set(spec.data.values.map((v: any) => v.data))],
        ['synthetic gaussian', 'synthetic rademacher', 'diabetes'],
      );
    }
  }
  assert.equal(problems, []);
});

test('estimate --out figures: the spectrum with its band and the heat maps pass the checks', () => {
  const est = [4.1, 1.3, 0.7, 0.05, 0.034, 0.012],
    ref = [4, 1.28, 0.69, 0.048, 0.041, 0.013];
  const spec = spectrumChart({
    title: 's',
    estimated: est,
    reference: ref,
    estimatedLabel: 'estimated',
    referenceLabel: "X'X/rows",
    band: { lower: est.map((v) => v * 0.9), upper: est.map((v) => v * 1.1), label: 'band' },
  });
  assert.equal(figureProblems('spectrum', spec), []);
  // an indefinite estimate (two-level can be) gets a linear axis that still holds every value
  assert.equal(
    figureProblems(
      'indefinite',
      spectrumChart({
        title: 's',
        estimated: [2, -0.1],
        reference: [2, 0.1],
        estimatedLabel: 'e',
        referenceLabel: 'r',
      }),
    ),
    [],
  );
  const names = ['a', 'b'];
  const maps = heatMaps({
    title: 'h',
    names,
    matrices: [
      { label: 'C', values: [1, -0.5, -0.5, 2] },
      { label: 'H', values: [1, -0.4, -0.4, 1.9] },
    ],
  }) as Record<string, any>;
  assert.equal(
    maps.spec.encoding.color.scale.domain,
    [-2, 2],
    'one colour scale, symmetric about 0, over both matrices',
  );
  assert.is(maps.data.values.length, 8);
});

test.run();
