// Typed arrays use the host's byte order; .npy and safetensors files are little-endian. Every current
// engine is little-endian, but a big-endian host still reads and writes correct files, just more slowly.

let littleEndianHost: boolean | undefined;

export function hostIsLittleEndian(): boolean {
  return (littleEndianHost ??= new Uint8Array(Uint16Array.of(1).buffer)[0] === 1);
}

/** Reverses the bytes of each `size`-byte element in place. */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}
