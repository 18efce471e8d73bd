// Dawn (npm `webgpu`) and the Vulkan loader log from native code straight to
// file descriptor 2: "Warning: maxDynamicUniformBuffersPerPipelineLayout
// artificially reduced ..." twice whenever an adapter is created, whatever
// limits are asked for, and "Warning: Couldn't load Vulkan ..." with a source
// position on a build machine on hosts without Vulkan. Nothing in the process
// can intercept those writes, so the command runs as a child whose stderr
// passes through this filter (supervise.ts), which drops them unless the user
// asked for --verbose.
//
// The filter works on lines. A hidden line starts with one of the native
// loggers' level prefixes; dlc's own lines never do ("dlc: ...", "epoch ...",
// "hint: ..."), nor do Node's warnings ("(node:123) Warning: ..."). Lines of
// errors are never hidden ("Error: " is also how Node prints a fatal
// exception). A hidden line takes its continuation with it: the native source
// positions ("    at CheckVkSuccessImpl (/home/runner/.../VulkanError.cpp:106)")
// and the blank line after them. Text that cannot start a hidden line (a
// progress bar's redraw, with no newline) is passed on at once.

const NATIVE_LINE = /^(Warning|Info|Debug): /;
/** A native frame: a C++ source file and line, which no JavaScript stack shows (those end in line:column). */
const NATIVE_FRAME = /^\s+at .*\.(cpp|cc|c|h|mm):\d+\)\s*$/;
const PREFIXES = ["Warning: ", "Info: ", "Debug: "];

export class NativeNoiseFilter {
  /** Text of the current line not yet decided. */
  private pending = "";
  /** The current line was passed on in part: the rest of it passes too. */
  private passing = false;
  /** What the last complete line was: hidden native text, a native frame, or anything else. */
  private after: "text" | "noise" | "frame" = "text";
  /** Lines hidden so far. */
  hidden = 0;

  /** The part of `chunk` to write now. */
  push(chunk: string): string {
    let out = "";
    let text = this.pending + chunk;
    this.pending = "";
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n")) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (this.passing) {
        this.passing = false;
        out += line + "\n";
        this.after = "text";
      } else out += this.line(line);
    }
    if (this.passing) out += text;
    else if (text !== "" && !this.undecided(text)) {
      out += text;
      this.passing = true;
    } else this.pending = text;
    return out;
  }

  /** What is left at the end of the stream. */
  end(): string {
    const rest = this.pending;
    this.pending = "";
    return rest === "" || this.passing || this.isNoise(rest) ? "" : rest;
  }

  private line(line: string): string {
    if (this.isNoise(line)) {
      this.hidden++;
      this.after = NATIVE_LINE.test(line) ? "noise" : line.trim() === "" ? "text" : "frame";
      return "";
    }
    this.after = "text";
    return line + "\n";
  }

  private isNoise(line: string): boolean {
    if (NATIVE_LINE.test(line)) return true;
    if (this.after !== "text" && NATIVE_FRAME.test(line)) return true;
    // The blank line Dawn writes after a message's source positions.
    return this.after === "frame" && line.trim() === "";
  }

  /** Whether a partial line might still turn out to be hidden: a prefix of a native line, or a continuation of one. */
  private undecided(partial: string): boolean {
    if (PREFIXES.some((p) => p.startsWith(partial) || partial.startsWith(p))) return true;
    return this.after !== "text" && /^\s/.test(partial);
  }
}
