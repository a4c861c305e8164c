// Entry for esbuild, which copies no file named by `new URL(..., import.meta.url)`: the core
// from gradcov/inline (the .wasm inside the JavaScript); the pool's worker script is a second
// entry point of the build (see the command in docs/runtimes.md).
import * as g from 'gradcov/inline';
import * as workers from 'gradcov/web-workers';
import { run, report } from './app.js';

report(run(g, workers));
