// One way out for every error: `gradcov: error: <message>` on stderr and exit code 1, with
// no stack trace. Commander's own errors (unknown option, missing argument, invalid choice)
// are rewritten to the same prefix by index.ts's configureOutput; everything thrown by a
// command ends here. An error that is not the user's (a bug) says so and prints its stack
// only with GRADCOV_DEBUG=1.

/** The prefix of every error line the CLI prints. */
export const ERROR_PREFIX = 'gradcov: error: ';

/** An error in the user's input (file, option, data): printed as its message only. */
export class UserError extends Error {
  override name = 'UserError';
}

/** Warnings go to stderr with one prefix too, and never change the exit code. */
export function warn(message: string): void {
  process.stderr.write(`gradcov: warning: ${safe(message)}\n`);
}

// ANSI escape sequences (CSI, OSC, two-character ESC), then any remaining C0/C1 control
// but newline and tab, and the bidirectional overrides that reorder what a terminal shows
/* eslint-disable no-control-regex -- these two patterns exist to match control characters */
const ESCAPES =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

/**
 * Text safe for a terminal: escape sequences and control characters (but newline and tab)
 * removed, and at most `max` characters (a longer text is cut, saying how long it was).
 * With oneLine (for a name), newlines and tabs become spaces too.
 */
export function terminalText(text: string, max = 80, oneLine = true): string {
  let s = text.replace(ESCAPES, '').replace(CONTROLS, '');
  if (oneLine) s = s.replace(/[\n\t]/g, ' ');
  const chars = [...s];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}… (${chars.length} characters)` : s;
}

/** A message that may quote the user's names, for the terminal. */
const safe = (m: string) => terminalText(m, 4000, false);

/** Prints an error the way every CLI error is printed and sets exit code 1. */
export function reportError(err: unknown): void {
  let message: string;
  if (err instanceof UserError || err instanceof RangeError || err instanceof TypeError) {
    // the library's RangeError/TypeError name the parameter and the value: the user's input
    message = err.message;
  } else if (err instanceof Error) {
    message = `${err.message} (an unexpected error; run with GRADCOV_DEBUG=1 to print its stack)`;
  } else {
    message = String(err);
  }
  process.stderr.write(ERROR_PREFIX + safe(message) + '\n');
  if (process.env.GRADCOV_DEBUG === '1' && err instanceof Error && err.stack)
    process.stderr.write(err.stack + '\n');
  process.exitCode = 1;
}

/** Shortens a list for a message: the first `max` items and how many more. */
export function listForMessage(items: readonly string[], max = 12): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, ... (${items.length} in all)`;
}
