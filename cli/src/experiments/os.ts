// What the experiments report about the machine (Node-only, CLI side).
import { availableParallelism, loadavg } from 'node:os';

export const os = {
  cores: availableParallelism(),
  load: (): string =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' / '),
};
