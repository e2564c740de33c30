/**
 * The part of pngjs's API that bench/compaction/plot.mjs uses (the workspace has no @types
 * package for it): an RGBA image and the synchronous PNG encoder and decoder.
 */
declare module 'pngjs' {
  export class PNG {
    constructor(options: { width: number; height: number });
    readonly width: number;
    readonly height: number;
    /** RGBA, 4 bytes per pixel, rows top to bottom. */
    data: Buffer;
    static sync: {
      write(png: PNG): Buffer;
      read(buffer: Buffer): PNG;
    };
  }
}
