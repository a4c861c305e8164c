// AssemblyScript compiler transform of the shared-memory build (asconfig.json target
// "shared"; scripts/build-shared-wasm.mjs applies it): the kernels keep per-call scratch in static memory (`memory.data(size,
// align)`: zero-filled, written on every call). Static memory is one address for every
// instance, so instances that share one WebAssembly.Memory would overwrite each other's
// scratch. This transform turns each such `memory.data(size, align)` into
// `sharedScratch(size, align)` (assembly/shared/lib/scratch.ts), which places the block
// in pages the instance claims for itself with memory.grow (atomic on shared memory) when
// it starts. Tables with initial contents (`memory.data<T>([...])`) stay static: they are
// constant, and writing the same bytes again on each instantiation changes nothing.
// The kernels' sources are not changed; the plain builds do not use this transform.
import { Transform } from 'assemblyscript/transform';
import assemblyscript from 'assemblyscript';

const { Node, NodeKind, LiteralKind } = assemblyscript;

function isMemoryData(call) {
  const e = call.expression;
  return e && e.kind === NodeKind.PropertyAccess
    && e.expression.kind === NodeKind.Identifier && e.expression.text === 'memory'
    && e.property.text === 'data';
}

function walk(node, seen, out) {
  if (node === null || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) { for (const n of node) walk(n, seen, out); return; }
  if (node.kind === NodeKind.Call && isMemoryData(node) && !node.typeArguments
    && node.args.length >= 1
    && !(node.args[0].kind === NodeKind.Literal && node.args[0].literalKind === LiteralKind.Array)) out.push(node);
  for (const key of Object.keys(node)) {
    if (key === 'range' || key === 'parent' || key === 'source') continue;
    walk(node[key], seen, out);
  }
}

/** Blocks rewritten by the last compilation (the build script checks that there were some). */
export const stats = { rewritten: 0 };

export default class SharedScratchTransform extends Transform {
  afterParse(parser) {
    let count = 0;
    for (const source of parser.sources) {
      if (source.internalPath.startsWith('~lib/')) continue;
      const calls = [];
      walk(source.statements, new Set(), calls);
      for (const call of calls) {
        call.expression = Node.createIdentifierExpression('sharedScratch', call.expression.range);
        count++;
      }
    }
    stats.rewritten = count;
  }
}
