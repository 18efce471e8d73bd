// Strings from outside dlc (an artifact's file and parameter names, CSV
// header names, file paths) reach the terminal through `printable`, so that a
// crafted name cannot move the cursor, recolor, retitle the window or hide text
// (ESC sequences, carriage returns, bidirectional overrides). Control characters
// are shown as escapes, `\x1b`, `\u202e`, which also keeps a message on one line.

// C0 controls, DEL, C1 controls; bidi embeddings, overrides and isolates; line and paragraph separators.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
