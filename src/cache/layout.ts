// What each name in a category folder is. Data files are `<key>.<ext>`, the Python cache's layout; every
// file the cache keeps for itself (journals, locks, claims, temporary files, descriptions, damaged indexes)
// starts with '.', which no key can, and the one that cannot (index.json, the schema's) is the only name a
// key could reach: such a key's file, and any that a platform reserves, gets a '~' in front instead.

/** The category's index, in the Python cache's schema. */
export const INDEX_FILE = 'index.json';
/** Prefix of temporary files (a writer's file before its rename into place). */
export const TEMP_PREFIX = '.tmp-';
/** Where repair sets damaged files aside (`<root>/.quarantine/<category>/`): a folder no reader looks into. */
export const QUARANTINE_DIR = '.quarantine';
/** Prefix of an unreadable index.json kept for the user to look at when a rebuilt one replaces it. */
export const DAMAGED_INDEX_PREFIX = `.${INDEX_FILE}.damaged-`;

// '~' is outside the key alphabet, so an escaped name is never another key's file.
const ESCAPE = '~';
// Names Windows reserves for devices, with any extension: a file `CON.json` cannot be created there.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
const SIDECAR_SUFFIX = '.dase.json';

function needsEscape(name: string): boolean {
  return name === INDEX_FILE || WINDOWS_DEVICE.test(name.split('.')[0]);
}

/**
 * The file that holds a key's value: `<key>.<ext>`, or `~<key>.<ext>` when that name is the index's or a
 * device name on Windows.
 * @example dataFileName('kernel_0.5', 'npz') // 'kernel_0.5.npz'; dataFileName('index', 'json') // '~index.json'
 */
export function dataFileName(key: string, ext: string): string {
  const name = `${key}.${ext}`;
  return needsEscape(name) ? `${ESCAPE}${name}` : name;
}

/** The key and extension of a data file's name, or undefined for a name that is not one. */
export function parseDataFileName(name: string): { key: string; ext: string } | undefined {
  if (nameKind(name) !== 'data') return undefined;
  const plain = name.startsWith(ESCAPE) ? name.slice(1) : name;
  if (plain !== name && !needsEscape(plain)) return undefined;
  const dot = plain.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return { key: plain.slice(0, dot), ext: plain.slice(dot + 1) };
}

/** A data file's extension, without the dot ('npz' for 'kernel_0.5.npz'). */
export function fileExtension(file: string): string {
  return file.slice(file.lastIndexOf('.') + 1);
}

/** The hidden file describing a data file that cannot describe itself (.json, .dat; large .npz descriptions). */
export function sidecarName(file: string): string {
  return `.${file}${SIDECAR_SUFFIX}`;
}

/** The data file a sidecar describes, or undefined when `name` is not a sidecar's. */
export function sidecarTarget(name: string): string | undefined {
  return name.startsWith('.') && name.endsWith(SIDECAR_SUFFIX) && !name.startsWith(TEMP_PREFIX)
    ? name.slice(1, -SIDECAR_SUFFIX.length) : undefined;
}

export type NameKind = 'index' | 'data' | 'temp' | 'sidecar' | 'own';

/** What a name in a category folder is: the index, a data file, a temporary file, a sidecar, or another of the cache's own. */
export function nameKind(name: string): NameKind {
  if (name === INDEX_FILE) return 'index';
  if (name.startsWith(TEMP_PREFIX)) return 'temp';
  if (sidecarTarget(name) !== undefined) return 'sidecar';
  return name.startsWith('.') ? 'own' : 'data';
}
