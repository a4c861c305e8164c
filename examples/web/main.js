// The page: starts the worker, draws each point of the calibration curve as it arrives.
const svg = document.getElementById('chart');
const status = document.getElementById('status');
const W = 720,
  H = 400,
  PAD = { left: 56, right: 16, top: 16, bottom: 44 };
const X_MAX = 4,
  Y_MAX = 3.2;
const x = (r) => PAD.left + (r / X_MAX) * (W - PAD.left - PAD.right);
const y = (e) => H - PAD.bottom - (Math.min(e, Y_MAX) / Y_MAX) * (H - PAD.top - PAD.bottom);
const NS = 'http://www.w3.org/2000/svg';

function add(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  svg.appendChild(el);
  return el;
}

for (let r = 0; r <= X_MAX; r += 0.5) {
  add('line', { x1: x(r), x2: x(r), y1: y(0), y2: y(Y_MAX), class: 'grid' });
  add('text', { x: x(r), y: H - PAD.bottom + 18, 'text-anchor': 'middle' }, r.toFixed(1));
}
for (let e = 0; e <= Y_MAX; e += 0.5) {
  add('line', { x1: x(0), x2: x(X_MAX), y1: y(e), y2: y(e), class: 'grid' });
  add('text', { x: PAD.left - 8, y: y(e) + 4, 'text-anchor': 'end' }, e.toFixed(1));
}
add('line', { x1: x(0), x2: x(X_MAX), y1: y(0), y2: y(0), class: 'axis' });
add('line', { x1: x(0), x2: x(0), y1: y(0), y2: y(Y_MAX), class: 'axis' });
add(
  'text',
  { x: (PAD.left + W - PAD.right) / 2, y: H - 8, 'text-anchor': 'middle' },
  'injected noise variance τ²/n',
);
add(
  'text',
  { x: 14, y: H / 2, transform: `rotate(-90 14 ${H / 2})`, 'text-anchor': 'middle' },
  'relative error',
);

const points = [];
const curve = add('polyline', { class: 'curve', points: '' });
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onerror = (e) => {
  status.textContent = `worker error: ${e.message}`;
  document.body.dataset.state = 'failed';
};
worker.onmessage = ({ data }) => {
  if (data.failed) {
    status.textContent = `failed: ${data.failed}`;
    document.body.dataset.state = 'failed';
    return;
  }
  if (data.done) {
    const best = points.reduce((a, b) => (b.error < a.error ? b : a));
    add('circle', { cx: x(best.ratio), cy: y(best.error), r: 7, class: 'best' });
    status.textContent =
      `minimum error ${best.error.toFixed(3)} at τ²/n = ${best.ratio.toFixed(2)} ` +
      `(d = ${data.dim}, ${data.rows} rows, n = ${data.batchSize}, ${data.batches} batches per point)`;
    document.body.dataset.best = String(best.ratio);
    document.body.dataset.state = 'done';
    worker.terminate();
    return;
  }
  points.push(data);
  add('circle', { cx: x(data.ratio), cy: y(data.error), r: 4, class: 'pt' });
  curve.setAttribute('points', points.map((p) => `${x(p.ratio)},${y(p.error)}`).join(' '));
  status.textContent = `τ²/n = ${data.ratio.toFixed(2)}: error ${data.error.toFixed(3)}`;
};
worker.postMessage({});
