// The README and docs/ run as a reader following them would: each Markdown file in a sandbox folder of its
// own, its blocks in order. A ```ts block (not marked `fragment`) is run against the built package (imported
// as 'dase-cache') and must not throw; a ```text output block after it shows what it prints. A block with a
// `file=<name>` word (```json file=kernels.json) is written as that file. In a ```console block each `$ ` line
// is run with `sh -c`, `dase-cache` and `npx dase-cache` being this repository's built CLI, and the lines
// under it show what it prints (stdout and stderr together); a block marked `console illustrative` cannot
// run here (another host, the repository's own scripts) and is not run. Outputs are compared with what
// changes from run to run masked (times, dates, durations, temp paths; see outputMatches) and '…' eliding.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeBlocks, consoleCommands, fileWord, markdownFiles, outputMatches, type CodeBlock } from './fixtures/doc-blocks.js';
import { FIRST_BUILD_PASS } from './fixtures/util.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const TS = new Set(['ts', 'typescript']);

const blocks = markdownFiles(REPO).flatMap((file) => codeBlocks(REPO, file));
const runnable = blocks.filter((b) => TS.has(b.lang) && !b.words.includes('fragment'));
const consoles = blocks.filter((b) => b.lang === 'console');
const illustrative = consoles.filter((b) => b.words.includes('illustrative'));
/** What each file's reader does, in order: run a program, save a file, type commands. */
const steps = (file: string) => blocks.filter((b) => b.file === file
  && (runnable.includes(b) || fileWord(b) !== undefined || (consoles.includes(b) && !illustrative.includes(b))));
const commandCount = consoles.filter((b) => !illustrative.includes(b)).reduce((n, b) => n + consoleCommands(b).length, 0);
const counts = { run: 0, outputsChecked: 0, commands: 0, commandOutputs: 0, silent: 0, files: 0 };

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** A reader's project folder and terminal: the environment and the exit status carry from command to command. */
interface Shell {
  /** The temp folder holding everything the file's blocks write (removed afterwards). */
  root: string;
  /** The project folder, where the blocks run. */
  project: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  status: number;
}

/**
 * A folder where `import ... from 'dase-cache'` finds this repository's built package, as an installed one,
 * and `dase-cache` (or `npx dase-cache`, offline) runs its built CLI; HOME, TMPDIR and npm's cache lie in the
 * same temp folder, so nothing is written outside it.
 */
function sandbox(): Shell {
  const root = mkdtempSync(join(tmpdir(), 'dase-doc-'));
  const project = join(root, 'project');
  const bin = join(project, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  for (const dir of ['home', 'tmp', 'npm-cache']) mkdirSync(join(root, dir));
  symlinkSync(REPO, join(project, 'node_modules', 'dase-cache'), 'dir');
  symlinkSync(join(REPO, 'node_modules', 'tsx'), join(project, 'node_modules', 'tsx'), 'dir');
  writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(bin, 'dase-cache'), `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(join(REPO, 'dist/cli/main.js'))} "$@"\n`);
  chmodSync(join(bin, 'dase-cache'), 0o755);
  // A reader's terminal: none of this run's cache settings (DASE_CACHE_DIR, _REMOTE, _DEBUG...), nor the
  // npm_* variables `npm test` sets, which would point a nested npx at this repository.
  const inherited = Object.entries(process.env).filter(([name]) => !/^(?:DASE_CACHE_|npm_)/i.test(name) && name !== 'INIT_CWD');
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(inherited),
    PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, PWD: project, HOME: join(root, 'home'), TMPDIR: join(root, 'tmp'),
    npm_config_cache: join(root, 'npm-cache'), npm_config_offline: 'true', npm_config_update_notifier: 'false',
    npm_config_audit: 'false', npm_config_fund: 'false',
  };
  return { root, project, env, cwd: project, status: 0 };
}

async function runProgram(shell: Shell, block: CodeBlock): Promise<string> {
  writeFileSync(join(shell.cwd, 'example.ts'), block.code);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'example.ts'], { cwd: shell.cwd, env: shell.env, timeout: 120_000 });
  return stdout;
}

/**
 * Runs one command line with `sh -c` as a terminal would: after the previous command's exit status (for
 * `echo $?`), in the environment earlier commands exported, stderr into the same pipe as stdout.
 * @returns what it printed and its exit status.
 */
function runCommand(shell: Shell, command: string): Promise<{ output: string; status: number }> {
  const envFile = join(shell.root, 'shell-env');
  const script = `exec 2>&1\n__doc_status() { return "$1"; }\n__doc_status ${shell.status}\n${command}\n`
    + `__doc_rc=$?\nenv -0 > ${quote(envFile)}\nexit $__doc_rc\n`;
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { cwd: shell.cwd, env: shell.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal) { reject(new Error(`\`${command}\` was stopped by ${signal} (timeout 120 s); it printed:\n${output}`)); return; }
      shell.status = code ?? 1;
      if (existsSync(envFile)) {
        shell.env = Object.fromEntries(readFileSync(envFile, 'utf8').split('\0').filter(Boolean)
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
        rmSync(envFile);
        // A `cd` moves the next commands too, as long as it stays in the sandbox.
        const pwd = shell.env.PWD;
        shell.cwd = pwd && !relative(shell.root, pwd).startsWith('..') && existsSync(pwd) ? pwd : shell.project;
      }
      resolve({ output, status: shell.status });
    });
  });
}

/** The output and the doc's text, one after the other. */
const showBoth = (actual: string, expected: string) => `it printed:\n${actual.trimEnd()}\nthe doc shows:\n${expected.trimEnd()}`;

describe.runIf(FIRST_BUILD_PASS)('the README and docs/, block by block as a reader would run them', () => {
  it('has examples to run and commands to type', () => {
    expect(runnable.length).toBeGreaterThan(0);
    expect(commandCount).toBeGreaterThan(0);
  });

  for (const file of [...new Set(blocks.map((b) => b.file))]) {
    const fileSteps = steps(file);
    if (!fileSteps.length) continue;
    describe(file, () => {
      let shell: Shell;
      beforeAll(() => { shell = sandbox(); });
      afterAll(() => { if (shell) rmSync(shell.root, { recursive: true, force: true }); });

      for (const block of fileSteps) {
        const name = fileWord(block);
        if (name !== undefined) {
          it(`${file}:${block.line} is saved as ${name}`, () => {
            writeFileSync(join(shell.cwd, name), block.code);
            counts.files++;
          });
        }
        if (runnable.includes(block)) {
          const shown = block.next?.words.includes('output') ? block.next : undefined;
          it(`${file}:${block.line} runs${shown ? ' and prints what follows it' : ''}`, async () => {
            let stdout: string;
            try {
              stdout = await runProgram(shell, block);
            } catch (error) {
              const { stderr = '', message } = error as { stderr?: string; message: string };
              throw new Error(`the example at ${file}:${block.line} failed: ${stderr.trim() || message}`);
            }
            counts.run++;
            if (shown) {
              expect(outputMatches(stdout, shown.code), `${file}:${block.line} printed:\n${stdout}`).toBe(true);
              counts.outputsChecked++;
            }
          }, 150_000);
        }
        if (consoles.includes(block)) {
          for (const { line, command, expected } of consoleCommands(block)) {
            it(`${file}:${line} $ ${command.replace(/\s+#.*$/, '')}`, async () => {
              const { output, status } = await runCommand(shell, command);
              counts.commands++;
              if (!outputMatches(output, expected)) {
                throw new Error(`\`${command}\` at ${file}:${line} (exit status ${status}) does not print what the doc shows; ${showBoth(output, expected)}`);
              }
              if (expected.trim()) counts.commandOutputs++; else counts.silent++;
            }, 150_000);
          }
        }
      }
    });
  }

  afterAll(() => {
    console.log(`doc examples: ${counts.run} of ${runnable.length} blocks run, ${counts.outputsChecked} outputs checked `
      + `(${blocks.filter((b) => TS.has(b.lang)).length - runnable.length} fragments not run)`);
    console.log(`doc console: ${counts.commands} of ${commandCount} commands run, ${counts.commandOutputs} outputs checked `
      + `and ${counts.silent} checked to print nothing, ${counts.files} input files written `
      + `(${illustrative.length} of ${consoles.length} console blocks illustrative, not run: `
      + `${illustrative.map((b) => `${b.file}:${b.line}`).join(', ') || 'none'})`);
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

  it('splits a console block into commands and the output under each, and reads file= words', () => {
    const block: CodeBlock = { file: 'docs/x.md', line: 10, lang: 'console', words: [], code: '$ a --x   # note\nout 1\n\nout 2\n$ echo $?\n0\n$ b\n' };
    expect(consoleCommands(block)).toEqual([
      { line: 11, command: 'a --x   # note', expected: 'out 1\n\nout 2\n' },
      { line: 15, command: 'echo $?', expected: '0\n' },
      { line: 17, command: 'b', expected: '' },
    ]);
    expect(() => consoleCommands({ ...block, code: 'output first\n$ a\n' })).toThrow(/starts with a "\$ " command/);
    expect(fileWord({ ...block, lang: 'json', words: ['file=kernels.json'] })).toBe('kernels.json');
    expect(fileWord(block)).toBeUndefined();
  });

  it('masks what changes from run to run, and nothing else', () => {
    const shown = 'computed  stencils/a    21.7 MiB     75 ms\nin 1.9 ms, 0.16 ms, 2 s, 12 µs; 677 MB/s\n  last access  2026-11-24T14:29:21.345Z (1 s ago)\n"compute_ms": 0.015,';
    const real = 'computed  stencils/a    21.7 MiB    113 ms\nin 12 ms, 3.1 ms, 14 s, 0.5 µs; 1000 MB/s\n  last access  2026-12-05T01:01:03.350Z (3 min ago)\n"compute_ms": 0.3,';
    expect(outputMatches(real, shown)).toBe(true);
    expect(outputMatches(real.replace('21.7 MiB', '21.8 MiB'), shown)).toBe(false);
    expect(outputMatches(real.replace('stencils/a', 'stencils/b'), shown)).toBe(false);
    expect(outputMatches('entries 35, 90.1 MiB', 'entries 36, 90.1 MiB')).toBe(false);
    expect(outputMatches(`cache: ${join(tmpdir(), 'dase-doc-x1/project/cache')}`, `cache: ${join(tmpdir(), 'dase-doc-y2/project/cache')}`)).toBe(true);
  });

  it('lets a line … stand for any number of lines, and …  (N more lines) for exactly N', () => {
    expect(outputMatches('h\na\nb\nc\nend', 'h\n…\nend')).toBe(true);
    expect(outputMatches('h\nend', 'h\n…\nend')).toBe(true);
    expect(outputMatches('h\na\nb\nend', 'h\n…  (2 more lines, one per entry)\nend')).toBe(true);
    expect(outputMatches('h\na\nb\nc\nend', 'h\n…  (2 more lines, one per entry)\nend')).toBe(false);
    expect(outputMatches('h\na\nb\nc\nend', 'h\n…  (the rest)\nend')).toBe(true);
    expect(outputMatches('h\na\nb\nc', 'h\n…\nend')).toBe(false);
  });
});
