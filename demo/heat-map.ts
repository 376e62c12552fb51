// Draws a 2-D field on a canvas as a heat map (the "inferno" colour scale), and its colour legend.

// Inferno, sampled at nine points; the 256 colours between are interpolated once.
const STOPS: Array<[number, number, number]> = [
  [0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85],
  [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164],
];

let palette: Uint8ClampedArray | undefined;

function colours(): Uint8ClampedArray {
  if (palette) return palette;
  palette = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (STOPS.length - 1);
    const k = Math.min(Math.floor(x), STOPS.length - 2);
    const t = x - k;
    for (let c = 0; c < 3; c++) palette[i * 4 + c] = STOPS[k][c] + t * (STOPS[k + 1][c] - STOPS[k][c]);
    palette[i * 4 + 3] = 255;
  }
  return palette;
}

/**
 * Draws frame `frame` of `data` (frames of grid x grid values, C order) scaled to the canvas.
 * @param max - the value drawn in the hottest colour (0 is the coldest).
 */
export function drawField(canvas: HTMLCanvasElement, data: Float64Array, grid: number, frame: number, max: number): void {
  const lut = colours();
  const image = new ImageData(grid, grid);
  const offset = frame * grid * grid;
  for (let i = 0; i < grid * grid; i++) {
    const level = Math.max(0, Math.min(255, Math.round((data[offset + i] / max) * 255)));
    image.data.set(lut.subarray(level * 4, level * 4 + 4), i * 4);
  }
  const cells = document.createElement('canvas');
  cells.width = grid;
  cells.height = grid;
  cells.getContext('2d')!.putImageData(image, 0, 0);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(cells, 0, 0, canvas.width, canvas.height);
}

/** Draws the colour scale from 0 (left) to `max` (right). */
export function drawLegend(canvas: HTMLCanvasElement): void {
  const lut = colours();
  const ctx = canvas.getContext('2d')!;
  for (let x = 0; x < canvas.width; x++) {
    const level = Math.round((x / (canvas.width - 1)) * 255);
    ctx.fillStyle = `rgb(${lut[level * 4]}, ${lut[level * 4 + 1]}, ${lut[level * 4 + 2]})`;
    ctx.fillRect(x, 0, 1, canvas.height);
  }
}
