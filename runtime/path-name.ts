// The last part of a path, for messages: node:path's basename, which a
// browser lacks ('/' or '\' separated, as Windows paths may be).

export function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
