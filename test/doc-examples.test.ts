// Every TypeScript example of the README and docs/ runs, as a user would run it: in a fresh folder of its
// own, against the built package (imported as 'dase-cache'), and must not throw; an example followed by a
// ```text output block prints that output ('…' masks what changes from run to run: times, dates, paths).
// A block marked ```ts fragment is a piece of a program (a signature, a line out of context) and is not run.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { codeBlocks, markdownFiles, outputMatches, type CodeBlock } from './fixtures/doc-blocks.js';
import { FIRST_BUILD_PASS } from './fixtures/util.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const TS = new Set(['ts', 'typescript']);

const blocks = markdownFiles(REPO).flatMap((file) => codeBlocks(REPO, file));
const runnable = blocks.filter((b) => TS.has(b.lang) && !b.words.includes('fragment'));
const counts = { run: 0, outputsChecked: 0 };

/** A folder where `import ... from 'dase-cache'` finds this repository's built package, as an installed one. */
function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dase-doc-example-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO, join(dir, 'node_modules', 'dase-cache'), 'dir');
  symlinkSync(join(REPO, 'node_modules', 'tsx'), join(join(dir, 'node_modules'), 'tsx'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  return dir;
}

async function runBlock(block: CodeBlock): Promise<string> {
  const dir = sandbox();
  try {
    writeFileSync(join(dir, 'example.ts'), block.code);
    const env = { ...process.env, DASE_CACHE_DIR: '', DASE_CACHE_REMOTE: '', DASE_CACHE_MAX_BYTES: '' };
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'example.ts'], { cwd: dir, env, timeout: 120_000 });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(FIRST_BUILD_PASS)('the examples of the README and docs/', () => {
  it('has examples to run', () => {
    expect(runnable.length).toBeGreaterThan(0);
  });

  for (const block of runnable) {
    it(`${block.file}:${block.line} runs${block.next?.words.includes('output') ? ' and prints what follows it' : ''}`, async () => {
      let stdout: string;
      try {
        stdout = await runBlock(block);
      } catch (error) {
        const { stderr = '', message } = error as { stderr?: string; message: string };
        throw new Error(`the example at ${block.file}:${block.line} failed: ${stderr.trim() || message}`);
      }
      counts.run++;
      if (block.next?.words.includes('output')) {
        expect(outputMatches(stdout, block.next.code), `${block.file}:${block.line} printed:\n${stdout}`).toBe(true);
        counts.outputsChecked++;
      }
    }, 150_000);
  }

  afterAll(() => {
    console.log(`doc examples: ${counts.run} of ${runnable.length} blocks run, ${counts.outputsChecked} outputs checked `
      + `(${blocks.filter((b) => TS.has(b.lang)).length - runnable.length} fragments not run)`);
  });
});

describe.runIf(FIRST_BUILD_PASS)('the doc-example extractor', () => {
  it('finds fenced blocks, their info words and the block that follows, and matches outputs with masks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dase-doc-blocks-'));
    try {
      writeFileSync(join(dir, 'README.md'), ['# t', '```ts', 'console.log(1)', '```', '', '```text output', '1 …', '```', 'text', '```ts fragment', 'f(x)', '```', ''].join('\n'));
      const found = codeBlocks(dir, join(dir, 'README.md'));
      expect(found.map((b) => [b.lang, b.words, b.line])).toEqual([['ts', [], 2], ['text', ['output'], 6], ['ts', ['fragment'], 10]]);
      expect(found[0].next).toBe(found[1]);
      expect(found[1].next).toBe(found[2]);
      expect(found[2].next).toBeUndefined();
      expect(outputMatches('1 ms\n', '1 …')).toBe(true);
      expect(outputMatches('2 ms\n', '1 …')).toBe(false);
      expect(outputMatches('a\nb\n', 'a')).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
