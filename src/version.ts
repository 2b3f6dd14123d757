/** tallyho's own version, set at build time from package.json. */
export const VERSION: string = typeof __TALLYHO_VERSION__ === 'string' ? __TALLYHO_VERSION__ : '0.0.0-source';

declare const __TALLYHO_VERSION__: string | undefined;
