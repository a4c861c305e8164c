// A progress bar on stderr for long runs (cli-progress). Off when stdout is not a TTY or
// with --quiet; tick() yields to the event loop so the bar redraws between estimates.
import cliProgress from 'cli-progress';

export interface Progress {
  start(label: string, total: number): void;
  tick(): Promise<void>;
  stop(): void;
}

export const silentProgress: Progress = { start() {}, tick: async () => {}, stop() {} };

export function createProgress(options: { quiet: boolean }): Progress {
  if (options.quiet || !process.stdout.isTTY || !process.stderr.isTTY) return silentProgress;
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(label, total) {
      bar?.stop();
      bar = new cliProgress.SingleBar({
        format: `${label.padEnd(14)} [{bar}] {value}/{total} estimates | {duration}s`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      }, cliProgress.Presets.shades_classic);
      bar.start(total, 0);
    },
    async tick() {
      bar?.increment();
      await new Promise((resolve) => setImmediate(resolve));
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
