// The filter on a supervised command's stderr: Dawn's and the Vulkan loader's
// native log lines go, everything else passes, however the text is split.

import test from "ava";
import { NativeNoiseFilter } from "../../cli/native-noise.js";

// Recorded from Dawn (npm webgpu 0.6.2) on this project's machines.
const REDUCED = [
  "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.",
  "Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.",
].map((l) => l + "\n").join("");
const NO_VULKAN = "Warning: Couldn't load Vulkan: /lib/x86_64-linux-gnu/libvulkan.so.1: file too short\n    at operator() (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)\n\n";
const NO_DRIVER = [
  "Warning: loader_get_json: Failed to open JSON file /nonexistent.json",
  "Warning: vkCreateInstance: Found no drivers!",
  "Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER",
  "    at CheckVkSuccessImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/VulkanError.cpp:106)",
  "",
  "",
].join("\n");
const DLC = "dlc: no WebGPU adapter found; or use the CPU backend\n";
const NODE_CRASH = "file:///x/dist/cli/main.js:3\nError: boom\n    at main (file:///x/dist/cli/main.js:3:9)\n\nNode.js v20.20.2\n";
const NODE_WARNING = "(node:123) Warning: something deprecated\n";
const BAR = "\x1b[?25l\x1b[1Gepoch 1 [====------] 4/10 loss 0.51 320.1 steps/s eta 0s\x1b[0K";

/** The filter's output for `text` cut into pieces of `size` characters (0: whole). */
function filtered(text: string, size = 0): string {
  const f = new NativeNoiseFilter();
  let out = "";
  for (let i = 0; i < text.length; i += size || text.length) out += f.push(text.slice(i, i + (size || text.length)));
  return out + f.end();
}

test("Dawn's 'artificially reduced' warnings are dropped", (t) => {
  t.is(filtered(REDUCED + DLC), DLC);
});

test("the Vulkan loader's lines go with their native source positions and the blank line after them", (t) => {
  t.is(filtered(NO_VULKAN + DLC), DLC);
  t.is(filtered(NO_DRIVER + DLC), DLC);
});

test("dlc's lines, Node's warnings and a JavaScript stack trace pass unchanged", (t) => {
  for (const text of [DLC, NODE_WARNING, NODE_CRASH, "epoch 1/2  train_loss 1.0785\n\n", "  indented output\n"]) t.is(filtered(text), text);
  // An error from native code is kept too: "Error: " is also how Node reports a fatal exception.
  t.is(filtered("Error: device lost\n    at Lose (dawn/Device.cpp:10)\n"), "Error: device lost\n    at Lose (dawn/Device.cpp:10)\n");
});

test("a blank line or an indented line is kept unless it follows native text", (t) => {
  t.is(filtered(DLC + "\n" + REDUCED + "    at x (/a/b.cpp:1)\n\n" + "\n"), DLC + "\n" + "\n");
});

test("the result does not depend on how the text is split into chunks", (t) => {
  const text = NO_DRIVER + DLC + REDUCED + BAR + "\n" + NODE_CRASH + NO_VULKAN + "done";
  const whole = filtered(text);
  t.is(whole, DLC + BAR + "\n" + NODE_CRASH + "done");
  for (const size of [1, 2, 3, 7, 64]) t.is(filtered(text, size), whole, `chunks of ${size}`);
});

test("a progress bar's redraw, with no newline, is passed on at once", (t) => {
  const f = new NativeNoiseFilter();
  t.is(f.push(BAR), BAR);
  t.is(f.push(" more"), " more", "the rest of a line already passed on passes too");
  t.is(f.push("\nWarn"), "\n", "a possible native line waits for its end");
  t.is(f.push("ing: x artificially reduced\nok\n"), "ok\n");
  t.is(f.hidden, 1);
});

test("an unfinished native line at the end of the stream is dropped; other unfinished text is kept", (t) => {
  t.is(filtered("Warning: maxDyn"), "");
  t.is(filtered("Warn"), "Warn");
  t.is(filtered("dlc: bye"), "dlc: bye");
});
