import { SingleBar } from 'cli-progress';

/**
 * Progress of long command-line work (imports, exports, backups, provisioning), drawn on stderr so that
 * stdout keeps only the result for scripts. Drawn on a terminal, or wherever `--progress` asks; never
 * when piped unless asked (`--no-progress` silences it on a terminal too).
 */
let forced: boolean | undefined;

/** `--progress` / `--no-progress` of the command line; undefined follows the terminal. */
export function setProgressMode(mode: boolean | undefined): void {
  forced = mode;
}

export function progressWanted(stream: NodeJS.WriteStream = process.stderr): boolean {
  return forced ?? stream.isTTY === true;
}

export interface ProgressBar {
  start(total: number, payload?: Record<string, string | number>): void;
  update(value: number, payload?: Record<string, string | number>): void;
  /** Draws the last state and ends the line; safe to call twice or before start. */
  stop(): void;
}

const silent: ProgressBar = { start() {}, update() {}, stop() {} };

/**
 * A bar in cli-progress's format language (`{bar}`, `{value}`, `{total}`, `{percentage}` and payload
 * keys). Off a terminal (forced) it prints a line at start, every 2 s and at the end, not a redrawn bar.
 */
export function progressBar(format: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!progressWanted(stream)) return silent;
  const tty = stream.isTTY === true;
  const bar = new SingleBar({
    stream,
    format,
    hideCursor: tty,
    noTTYOutput: !tty,
    // On a terminal the last state stays and the bar ends its line; off one every state already ended its
    // line, and "clearing" (a no-op there) keeps a blank line out of the output.
    clearOnComplete: !tty,
    barCompleteChar: '=',
    barIncompleteChar: ' ',
  });
  let running = false;
  return {
    start(total, payload) {
      running = true;
      bar.start(Math.max(total, 1), 0, payload);
    },
    update(value, payload) {
      if (running) bar.update(value, payload);
    },
    stop() {
      if (!running) return;
      running = false;
      bar.stop();
    },
  };
}
