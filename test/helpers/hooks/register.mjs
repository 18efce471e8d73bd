// `node --import ./register.mjs`: installs record-modules.mjs.
import { register } from "node:module";

register("./record-modules.mjs", import.meta.url);
