import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';

interface PackageJson {
  name?: string;
  version?: string;
}

/**
 * The nearest directory at or above `start` whose package.json is syncgate's. Found by walking up
 * rather than by a fixed number of `..`, because the same module runs from src/ (vitest), from
 * dist/ (tsc's output) and from dist/bundle/ (the bundle that `npm start` and the image run).
 */
function findPackage(start: string): { root: string; manifest: PackageJson } {
  for (let dir = start; ; ) {
    let manifest: PackageJson | undefined;
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    } catch {
      manifest = undefined;
    }
    if (manifest?.name === 'syncgate') return { root: dir, manifest };
    const parent = path.dirname(dir);
    if (parent === dir) throw new ConfigError('PACKAGE_ROOT_NOT_FOUND', `syncgate's package.json was not found in ${start} or any directory above it`);
    dir = parent;
  }
}

const found = findPackage(path.dirname(fileURLToPath(import.meta.url)));

/** The package root: policies/, keys.example/ and package.json are found from here. */
export const PACKAGE_ROOT = found.root;

/** syncgate's version, as package.json (shipped beside dist/ in the package and the image) says. */
export const VERSION = String(found.manifest.version);
