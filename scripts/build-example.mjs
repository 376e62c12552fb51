// Bundles examples/fractional-diffusion.ts into build/examples/ with esbuild, so that `npm start` runs it
// on plain Node: each of its processes then starts in tens of milliseconds instead of compiling TypeScript.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'src', 'wasm', 'generated', 'embedded.ts'))) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')], { stdio: 'inherit' });
}
await build({
  entryPoints: [join(root, 'examples', 'fractional-diffusion.ts')],
  outfile: join(root, 'build', 'examples', 'fractional-diffusion.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
