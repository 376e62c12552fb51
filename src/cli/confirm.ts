// Asking before destroying: a yes/no question on the terminal (callers refuse first when there is none).

import { createInterface } from 'node:readline';

/**
 * Asks `question [y/N]` on the terminal; true only for y or yes.
 * @example if (!(await confirm('Remove 3 entries?'))) return EXIT.ok;
 */
export async function confirm(question: string): Promise<boolean> {
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
