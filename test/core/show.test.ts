// show() renders a value for an error message: short arrays show their items so a message
// says `Array(2) [2,1]`, long ones their length; it never calls an accessor, never reads a Proxy's
// length twice, and never throws (a throwing Proxy trap falls back to the length).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { show } from '../../src/core/validate.js';

test('primitives, typed arrays and objects', () => {
  assert.is(show(-0), '-0');
  assert.is(show(1.5), '1.5');
  assert.is(show(NaN), 'NaN');
  assert.is(show('x'.repeat(50)), JSON.stringify('x'.repeat(40) + '…'));
  assert.is(show(3n), '3n');
  assert.is(show(undefined), 'undefined');
  assert.is(show(new Float64Array(5)), 'Float64Array(5)');
  assert.is(show({}), '[object Object]');
  assert.is(
    show(() => 1),
    'function',
  );
});

test('short arrays show their items, one level deep; long ones their length', () => {
  assert.is(show([2, 1]), 'Array(2) [2,1]');
  assert.is(show([]), 'Array(0) []');
  assert.is(
    show([1, 'a', null, [1, 2, 3], new Float32Array(2)]),
    'Array(5) [1,"a",null,Array(3),Float32Array(2)]',
  );
  assert.is(show(new Array(9).fill(0)), 'Array(9)');
  assert.is(show([1, , 3]), 'Array(3) [1,empty,3]'); // eslint-disable-line no-sparse-arrays
});

test('no accessor is called, a lying Proxy is read once, a throwing one does not throw', () => {
  let calls = 0;
  const withGetter = [1, 2];
  Object.defineProperty(withGetter, 0, { get: () => (calls++, 5) });
  assert.is(show(withGetter), 'Array(2) [getter,2]');
  assert.is(calls, 0);
  let lengthReads = 0;
  const liar = new Proxy([1, 2], {
    get: (t, k, r) => (k === 'length' ? (lengthReads++ === 0 ? 2 : 1e9) : Reflect.get(t, k, r)),
  });
  assert.is(show(liar), 'Array(2) [1,2]');
  assert.is(lengthReads, 1);
  const thrower = new Proxy([1, 2], {
    getOwnPropertyDescriptor: () => {
      throw new Error('trap');
    },
  });
  assert.is(show(thrower), 'Array(2)');
});

test.run();
