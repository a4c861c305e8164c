// Module Web Worker: the conformance script with init()'s default source (fetch next to the
// package's module).
import { conformance } from '../conformance/conformance.js';

conformance().then(
  (summary) => self.postMessage({ ok: true, summary }),
  (err) => self.postMessage({ ok: false, error: err.message }),
);
