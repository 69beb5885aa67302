/** Types for build-assets.mjs (plain JS so `npm run build` can run it before compiling). */
export declare const DEFAULT_OUTDIR: string;
export declare function buildAssets(outdir?: string): Promise<string>;
