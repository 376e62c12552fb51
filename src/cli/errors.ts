// Exit codes and the one error type commands throw: main.ts prints its message as one line on stderr
// and exits with its code.

/** The exit codes of every command: 0 ok, 1 a problem was found, 2 the command line was wrong. */
export const EXIT = Object.freeze({ ok: 0, problem: 1, usage: 2 });

type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error whose message is meant for the user as is, with the exit code it ends the command with. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/**
 * A command-line mistake (exit code 2): unknown option, bad value, unknown category.
 * @example throw usageError('bad size "12Q"; use a number of bytes or e.g. 500M, 1.5G');
 */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** A problem the command found (exit code 1): damage, a key that is not there. */
export function problemError(message: string): CliError {
  return new CliError(message, EXIT.problem);
}
