// The example simulation (npm start) on a small grid and a temporary cache root: the warm run loads the
// simulation from disk and gets the identical result.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));

it('examples/fractional-diffusion.ts runs cold then warm and the warm run loads the simulation', () => {
  const root = mkdtempSync(join(tmpdir(), 'dase-example-'));
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/fractional-diffusion.ts', '--grid', '12', '--steps', '40'],
      { cwd: REPO, encoding: 'utf8', env: { ...process.env, DASE_CACHE_DIR: root } });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const simulation = lines.find((l) => l.startsWith('simulation'))!;
    expect(simulation).toMatch(/state_profiles\/fractional-diffusion_0\.5_12_40_0\.001 +computed, stored .* loaded \(disk\)/);
    expect(lines.find((l) => l.startsWith('fractional kernel'))).toContain('fractional_kernels/kernel_0.5_0.001_41');
    expect(lines.find((l) => l.startsWith('Laplacian'))).toContain('stencils/laplacian_2d_12_12_dirichlet_h0.07692307692307693');
    expect(run.stdout).toMatch(/end to end \(the job\) .* \d+\.\dx/);
    expect(run.stdout).toContain('(warm run: identical)');
    expect(run.stdout).toContain(`cache: ${root}`);
    expect(readdirSync(join(root, 'state_profiles'))).toContain('fractional-diffusion_0.5_12_40_0.001.npz');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
