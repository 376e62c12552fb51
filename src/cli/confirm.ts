// Asking before destroying: a yes/no question on the terminal, refused outright without one.

import { createInterface } from 'node:readline';
import { usageError } from './errors.js';

/**
 * Asks `question [y/N]` on the terminal; true only for y or yes.
 * @param refusal - the error message when there is no terminal to ask on; it should say to pass --yes.
 * @throws {CliError} (exit 2) with `refusal` when stdin is not a terminal: a script must say --yes.
 * @example if (!(await confirm('Remove 3 entries?', 'clear: not confirmed; pass --yes'))) return EXIT.ok;
 */
export async function confirm(question: string, refusal: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw usageError(refusal);
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      prompt.question(`${question} [y/N] `, resolve);
      prompt.once('close', () => resolve('')); // Ctrl-D: no
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
