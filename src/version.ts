import { readFileSync } from 'node:fs';

/** syncgate's version, as package.json (shipped beside dist/ in the package and the image) says. */
export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
