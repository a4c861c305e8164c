// Entry for Vite and webpack: the package's own entries, as an app imports them.
import * as g from 'gradcov';
import * as workers from 'gradcov/web-workers';
import { run, report } from './app.js';

report(run(g, workers));
