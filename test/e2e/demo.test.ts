import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('gradcov demo (npm run demo) prints both tables with the smallest error at tau2/n = 1, near and far', () => {
  // exactly the root package.json's `demo` script, from the repository root
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const out = execFileSync('npm', ['run', '--silent', 'demo'], { encoding: 'utf8', cwd: root });
  const tables = out.split('| tau2/n |').slice(1);
  assert.is(tables.length, 2, out);
  for (const t of tables) {
    const rows = t
      .split('\n')
      .filter((l) => /^\|\s+\d/.test(l))
      .map((l) =>
        l
          .split('|')
          .slice(1, 4)
          .map((c) => c.trim()),
      );
    assert.equal(
      rows.map((r) => r[0]),
      ['0.00', '0.25', '0.50', '1.00', '2.00', '4.00'],
    );
    const calibrated = rows.find((r) => r[0] === '1.00')!;
    assert.ok(
      calibrated[1]!.endsWith('*') && calibrated[2]!.endsWith('*'),
      `minimum at the calibrated row: ${calibrated}`,
    );
    assert.ok(parseFloat(calibrated[1]!) < 0.1, `near error ${calibrated[1]}`);
  }
});

test.run();
