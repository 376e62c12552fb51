import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The browser entry must bundle without Node built-ins: the kernels' path imports no `node:` module.
describe('the browser build', () => {
  it('bundles for the browser with no node: import and runs from the bundle alone', async () => {
    const result = await build({
      entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
      bundle: true, format: 'esm', platform: 'browser', write: false, minify: true, logLevel: 'silent',
    });
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(/["']node:/);
    expect(code).not.toMatch(/\brequire\(/);
    const url = `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`;
    const bundled = await import(url);
    expect(bundled.sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(bundled.checksum('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect([...bundled.glWeights(0.5, 3)]).toEqual([1, -0.5, -0.125]);
  });
});
