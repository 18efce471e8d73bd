import test from "ava";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { spawnSync } from "node:child_process";
import { writeFileAtomic, type AtomicFs } from "../../../runtime/checkpoint/atomic.js";
import { FileWriteError } from "../../../runtime/checkpoint/error.js";

function freshDir(): string {
  return fs.mkdtempSync(join(tmpdir(), "dlc-atomic-"));
}

const OLD = new TextEncoder().encode("old checkpoint, intact");
const NEW = new TextEncoder().encode("new checkpoint bytes, longer than the old ones");

type Step = "write" | "fsync" | "close" | "rename";

/** node:fs, except that `step` fails once on the temp file, as ENOSPC or EIO would. */
function failingAt(step: Step): AtomicFs & { opened: string[] } {
  const opened: string[] = [];
  let tempFd = -1;
  const boom = () => Object.assign(new Error(`injected ${step} failure`), { code: "EIO" });
  return {
    opened,
    openSync(path, flags, mode) {
      const fd = fs.openSync(path, flags, mode);
      if (flags === "wx") {
        opened.push(path);
        tempFd = fd;
      }
      return fd;
    },
    writeSync(fd, buffer, offset, length, position) {
      if (step === "write" && fd === tempFd) {
        fs.writeSync(fd, buffer, offset, Math.ceil(length / 2), position); // a partial write, then the disk fills
        throw boom();
      }
      return fs.writeSync(fd, buffer, offset, length, position);
    },
    fsyncSync(fd) {
      if (step === "fsync" && fd === tempFd) throw boom();
      fs.fsyncSync(fd);
    },
    closeSync(fd) {
      fs.closeSync(fd);
      if (step === "close" && fd === tempFd) throw boom();
    },
    renameSync(from, to) {
      if (step === "rename") throw boom();
      fs.renameSync(from, to);
    },
    unlinkSync: (path) => fs.unlinkSync(path),
    readdirSync: (path) => fs.readdirSync(path),
  };
}

test("the target holds exactly the new bytes and no temp file is left", (t) => {
  const dir = freshDir();
  const target = join(dir, "model.safetensors");
  writeFileAtomic(target, NEW);
  t.deepEqual(new Uint8Array(fs.readFileSync(target)), NEW);
  t.deepEqual(fs.readdirSync(dir), ["model.safetensors"]);
});

test("an existing target is replaced, not appended to or partly overwritten", (t) => {
  const dir = freshDir();
  const target = join(dir, "model.safetensors");
  fs.writeFileSync(target, NEW);
  writeFileAtomic(target, OLD); // shorter than what was there
  t.deepEqual(new Uint8Array(fs.readFileSync(target)), OLD);
});

for (const step of ["write", "fsync", "close", "rename"] as const) {
  test(`a failing ${step} leaves the old file intact, removes the temp file and fails naming the path`, (t) => {
    const dir = freshDir();
    const target = join(dir, "model.safetensors");
    fs.writeFileSync(target, OLD);
    const seam = failingAt(step);
    const error = t.throws(() => writeFileAtomic(target, NEW, seam), { instanceOf: FileWriteError });
    t.is(error.message, `cannot write '${target}': input/output error (EIO)`);
    t.is(error.code, "EIO");
    t.deepEqual(new Uint8Array(fs.readFileSync(target)), OLD);
    t.deepEqual(fs.readdirSync(dir), ["model.safetensors"]);
    t.is(seam.opened.length, 1, "the temp file was created before the failure");
  });
}

test("a failing write with no previous file leaves no file at all", (t) => {
  const dir = freshDir();
  t.throws(() => writeFileAtomic(join(dir, "model.safetensors"), NEW, failingAt("write")));
  t.deepEqual(fs.readdirSync(dir), []);
});

test("a missing directory fails with ENOENT and creates nothing", (t) => {
  const dir = freshDir();
  const target = join(dir, "missing", "model.safetensors");
  t.throws(() => writeFileAtomic(target, NEW), { code: "ENOENT", instanceOf: FileWriteError, message: `cannot write '${target}': no such file or folder (ENOENT)` });
  t.deepEqual(fs.readdirSync(dir), []);
});

test("the temp file is a hidden, uniquely named sibling of the target", (t) => {
  const dir = freshDir();
  const target = join(dir, "model.safetensors");
  const seam = failingAt("rename");
  t.throws(() => writeFileAtomic(target, NEW, seam));
  t.throws(() => writeFileAtomic(target, NEW, seam));
  const [first, second] = seam.opened;
  t.is(dirname(first!), dir);
  t.true(basename(first!).startsWith(".model.safetensors."));
  t.not(first, second);
});

test("a directory that cannot be fsynced does not fail a completed write", (t) => {
  const dir = freshDir();
  const target = join(dir, "model.safetensors");
  const seam: AtomicFs = {
    ...failingAt("write"),
    writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
    openSync: (path, flags, mode) => {
      if (path === dir) throw Object.assign(new Error("EISDIR"), { code: "EISDIR" });
      return fs.openSync(path, flags, mode);
    },
  };
  writeFileAtomic(target, NEW, seam);
  t.deepEqual(new Uint8Array(fs.readFileSync(target)), NEW);
});

test("an empty byte array writes an empty file", (t) => {
  const dir = freshDir();
  const target = join(dir, "empty");
  writeFileAtomic(target, new Uint8Array(0));
  t.is(fs.statSync(target).size, 0);
});

test("a full disk is one line naming the path and the reason, and the old file stays", (t) => {
  const dir = freshDir();
  const target = join(dir, "model.safetensors");
  fs.writeFileSync(target, OLD);
  const seam: AtomicFs = {
    ...failingAt("write"),
    writeSync: () => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    },
  };
  const error = t.throws(() => writeFileAtomic(target, NEW, seam), { instanceOf: FileWriteError });
  t.is(error.message, `cannot write '${target}': no space left on device (ENOSPC)`);
  t.deepEqual(new Uint8Array(fs.readFileSync(target)), OLD);
  t.deepEqual(fs.readdirSync(dir), ["model.safetensors"]);
});

/** The PID of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

test("temp files left by killed writers are removed on the next write; a live writer's are kept", (t) => {
  const dir = freshDir();
  const target = join(dir, "model.safetensors");
  const dead = `.model.safetensors.${deadPid()}.a1b2c3d4e5f6.tmp`;
  const live = `.model.safetensors.${process.ppid}.0123456789ab.tmp`; // the test runner's parent: alive
  const other = `.other.safetensors.${deadPid()}.a1b2c3d4e5f6.tmp`; // another target's: not ours to judge
  for (const name of [dead, live, other]) fs.writeFileSync(join(dir, name), "partial");
  writeFileAtomic(target, NEW);
  t.deepEqual(fs.readdirSync(dir).sort(), [live, other, "model.safetensors"].sort());
});

test("a writer's liveness is what protects its temp file", (t) => {
  const dir = freshDir();
  const target = join(dir, "m.st");
  for (const pid of [111111, 222222]) fs.writeFileSync(join(dir, `.m.st.${pid}.00ff00ff00ff.tmp`), "partial");
  writeFileAtomic(target, NEW, fs, (pid) => pid === 222222);
  t.deepEqual(fs.readdirSync(dir).sort(), [".m.st.222222.00ff00ff00ff.tmp", "m.st"]);
});
