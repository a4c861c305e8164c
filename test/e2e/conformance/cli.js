// Runs the conformance script with init()'s default source and prints the summary as one
// JSON line: for runtimes that can run a file (node, deno, bun).
import { conformance } from './conformance.js';

console.log(JSON.stringify(await conformance()));
