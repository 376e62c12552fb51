// Looks into the origin-private file system with the browser's own API, not the cache's: what the cache
// wrote, as any other code (or the test) sees it.

/** The handle of a folder in OPFS, or undefined when it does not exist. */
async function folder(path: string): Promise<FileSystemDirectoryHandle | undefined> {
  let dir = await navigator.storage.getDirectory();
  for (const name of path.split('/').filter((s) => s !== '')) {
    try {
      dir = await dir.getDirectoryHandle(name);
    } catch {
      return undefined;
    }
  }
  return dir;
}

/** Every file under `path`, as '/'-separated paths relative to it, sorted. */
export async function listTree(path: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: FileSystemDirectoryHandle, prefix: string) => {
    // entries() is in lib.dom.asynciterable, which the package does not compile against.
    for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      if (handle.kind === 'directory') await walk(handle as FileSystemDirectoryHandle, `${prefix}${name}/`);
      else out.push(`${prefix}${name}`);
    }
  };
  const dir = await folder(path);
  if (dir) await walk(dir, '');
  return out.sort();
}

/** A file's bytes as base64 (for the test to take out of the page), or null when it does not exist. */
export async function readBase64(path: string): Promise<string | null> {
  const slash = path.lastIndexOf('/');
  const dir = await folder(path.slice(0, Math.max(0, slash)));
  if (!dir) return null;
  let file: File;
  try {
    file = await (await dir.getFileHandle(path.slice(slash + 1))).getFile();
  } catch {
    return null;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
