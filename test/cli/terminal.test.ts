// printable(): what reaches the terminal from files dlc did not write.

import test from "ava";
import { printable } from "../../cli/terminal.js";

test("control characters, DEL, C1 controls and bidi overrides are shown as escapes", (t) => {
  t.is(printable("plain name_1 ünïcode"), "plain name_1 ünïcode");
  t.is(printable("a\u001b[2Jb"), "a\\x1b[2Jb");
  t.is(printable("line\nnext\rover\ttab\u0000"), "line\\x0anext\\x0dover\\x09tab\\x00");
  t.is(printable("\u007f\u009b31m"), "\\x7f\\x9b31m");
  t.is(printable("abc\u202eexe.txt\u2066"), "abc\\u202eexe.txt\\u2066");
});
