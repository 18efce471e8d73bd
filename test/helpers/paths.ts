import { fileURLToPath } from "node:url";

/** The repository root: tests run with it as the working directory. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const fromRoot = (p: string) => fileURLToPath(new URL(p, new URL("../../", import.meta.url)));
