// The API reference (`npm run docs`: TypeDoc over typedoc.json's entry points) builds without a single
// warning, and every exported function and class keeps the JSDoc STYLE.md asks for (habit 11), which TypeDoc
// itself does not check. One pass only: the docs do not depend on the WASM build.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JSONOutput } from 'typedoc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRST_BUILD_PASS } from './fixtures/util.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
// The binary from node_modules, run by this Node: no npx, no network.
const TYPEDOC = join(REPO, 'node_modules/typedoc/bin/typedoc');

// TypeDoc's ReflectionKind values (its JSON output holds the numbers).
const KIND = { Function: 64, Class: 128, Constructor: 512, Method: 2048 } as const;

type Reflection = JSONOutput.DeclarationReflection;
type Signature = JSONOutput.SignatureReflection;

const tagsOf = (comment: JSONOutput.Comment | undefined) => new Set((comment?.blockTags ?? []).map((t) => t.tag));
const hasText = (comment: JSONOutput.Comment | undefined) => (comment?.summary ?? []).some((part) => part.text.trim() !== '');

function returnsNothing(type: JSONOutput.SomeType | undefined): boolean {
  if (type?.type === 'intrinsic') return type.name === 'void';
  return type?.type === 'reference' && type.name === 'Promise' && type.typeArguments?.[0]?.type === 'intrinsic'
    && type.typeArguments[0].name === 'void';
}

/** What a signature's JSDoc lacks of habit 11 (@throws aside: whether a function throws is not in its type). */
function missing(signature: Signature, { example }: { example: boolean }): string[] {
  const tags = tagsOf(signature.comment);
  const lacks: string[] = [];
  if (!hasText(signature.comment)) lacks.push('a summary');
  if (example && !tags.has('@example')) lacks.push('@example');
  for (const parameter of signature.parameters ?? []) if (!hasText(parameter.comment)) lacks.push(`@param ${parameter.name}`);
  if (signature.kind !== 16384 && !returnsNothing(signature.type) && !tags.has('@returns')) lacks.push('@returns');
  return lacks;
}

/** Every exported function and class of the entry points (re-exports are documented where they are declared). */
function styleProblems(project: JSONOutput.ProjectReflection): string[] {
  const problems: string[] = [];
  const report = (name: string, lacks: string[]) => { if (lacks.length > 0) problems.push(`${name}: no ${lacks.join(', ')}`); };
  for (const module of project.children ?? []) {
    for (const child of (module.children ?? []) as Reflection[]) {
      const name = `${module.name}.${child.name}`;
      if (child.kind === KIND.Function) {
        for (const signature of child.signatures ?? []) report(name, missing(signature, { example: true }));
      } else if (child.kind === KIND.Class) {
        const members = (child.children ?? []) as Reflection[];
        const constructor = members.find((m) => m.kind === KIND.Constructor);
        const example = tagsOf(child.comment).has('@example')
          || (constructor?.signatures ?? []).some((s) => tagsOf(s.comment).has('@example'));
        if (!hasText(child.comment)) problems.push(`${name}: no class comment`);
        if (!example) problems.push(`${name}: no @example on the class or its constructor`);
        // What the class declares itself; inherited members are checked where they are declared.
        for (const member of members) {
          if (member.inheritedFrom || (member.kind !== KIND.Constructor && member.kind !== KIND.Method)) continue;
          // An implicit constructor has no JSDoc to give; the class comment speaks for it.
          const signatures = (member.signatures ?? []).filter((s) => member.kind !== KIND.Constructor || (s.parameters ?? []).length > 0);
          for (const signature of signatures) report(`${name}.${member.name}`, missing(signature, { example: false }));
        }
      }
    }
  }
  return problems;
}

describe.runIf(FIRST_BUILD_PASS)('the API reference (npm run docs)', () => {
  let out: string;
  let run: { code: number | null; output: string };

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'dase-docs-'));
    // typedoc.json as it is, written to a temporary folder (docs/api/ is left alone), plus the JSON model.
    run = await new Promise((done) => {
      execFile(process.execPath, [TYPEDOC, '--out', join(out, 'html'), '--json', join(out, 'api.json')], {
        cwd: REPO, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, maxBuffer: 16 * 2 ** 20,
      }, (error, stdout, stderr) => {
        // Colours are stripped in case TypeDoc writes them regardless.
        const output = `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output });
      });
    });
  }, 180_000);

  afterAll(() => { if (out) rmSync(out, { recursive: true, force: true }); });

  it('builds with no warning and no error', () => {
    const complaints = run.output.split('\n').filter((line) => /\[(warning|error)\]/.test(line));
    expect(complaints, run.output).toEqual([]);
    expect(run.code, run.output).toBe(0);
    expect(readFileSync(join(out, 'html/index.html'), 'utf8')).toContain('dase-cache');
  });

  it('gives every exported function and class a summary, @param, @returns and an @example (STYLE.md habit 11)', () => {
    // TypeDoc writes nothing when it warned: the test above says why.
    expect(existsSync(join(out, 'api.json')), 'TypeDoc wrote no JSON model (see the warnings above)').toBe(true);
    const project = JSON.parse(readFileSync(join(out, 'api.json'), 'utf8')) as JSONOutput.ProjectReflection;
    // The three entry points: what the Node and browser builds share, and each one's own pieces.
    expect((project.children ?? []).map((m) => m.name).sort()).toEqual(['browser', 'core', 'node']);
    expect(styleProblems(project)).toEqual([]);
  });
});
