// A progress bar on stderr for long runs (cli-progress). Off when stdout is not a TTY or
// with --quiet, and shown only once a phase has run for SHOW_AFTER_MS, so quick runs print
// nothing. tick() yields to the event loop so the bar redraws between estimates; set()
// moves the bar to a value (the CSV reader reports megabytes read).
import cliProgress from 'cli-progress';
import { removePartialFiles } from './output.js';

/** The bar on screen (at most one), for the SIGINT handler. */
let shown: cliProgress.SingleBar | undefined;
let handling = false;

/**
 * Ctrl-C (SIGINT): stop the bar and show the cursor again, remove the temporary files of a
 * write in progress, exit 130 (the shell's code for SIGINT). Installed once, by createProgress.
 */
function handleInterrupts(): void {
  if (handling) return;
  handling = true;
  process.once('SIGINT', () => {
    try {
      shown?.stop();
    } catch {
      /* the terminal may be gone */
    }
    if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\n'); // the cursor back
    removePartialFiles();
    process.stderr.write('gradcov: interrupted\n');
    process.exit(130);
  });
}

export interface Progress {
  /** A new phase of `total` steps, counted in `unit` (default "estimates"). */
  start(label: string, total: number, unit?: string): void;
  tick(): Promise<void>;
  /** Moves the bar to `done` steps without yielding. */
  set(done: number): void;
  stop(): void;
}

/** Delay before the bar appears; GRADCOV_PROGRESS_DELAY_MS overrides it (the tests set 0). */
const SHOW_AFTER_MS = Number(process.env.GRADCOV_PROGRESS_DELAY_MS ?? 1000);

/**
 * No bar; tick() still yields to the event loop (setImmediate, a few microseconds), so that
 * Ctrl-C is handled between steps (the SIGINT handler runs only when JavaScript yields).
 */
export const silentProgress: Progress = {
  start() {},
  tick: () => new Promise((resolve) => setImmediate(resolve)),
  set() {},
  stop() {},
};

export function createProgress(options: { quiet: boolean }): Progress {
  handleInterrupts();
  if (options.quiet || !process.stdout.isTTY || !process.stderr.isTTY) return silentProgress;
  let bar: cliProgress.SingleBar | undefined;
  let label = '',
    unit = 'estimates',
    total = 0,
    done = 0,
    started = 0;
  const draw = () => {
    if (!bar && performance.now() - started >= SHOW_AFTER_MS && done < total) {
      bar = new cliProgress.SingleBar(
        {
          format: `${label.padEnd(14)} [{bar}] {value}/{total} ${unit} | {duration}s`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, done);
      shown = bar;
    } else {
      bar?.update(done);
    }
  };
  return {
    start(l, t, u = 'estimates') {
      bar?.stop();
      bar = undefined;
      shown = undefined;
      label = l;
      unit = u;
      total = t;
      done = 0;
      started = performance.now();
    },
    set(value) {
      done = Math.min(value, total);
      draw();
    },
    async tick() {
      done++;
      draw();
      await new Promise((resolve) => setImmediate(resolve));
    },
    stop() {
      bar?.stop();
      bar = undefined;
      shown = undefined;
    },
  };
}
