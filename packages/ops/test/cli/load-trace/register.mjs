// `node --import` this after tsx: every module resolved from then on is listed in $LOAD_TRACE_OUT.
import { register } from "node:module";

register(new URL("./hooks.mjs", import.meta.url), { data: { out: process.env.LOAD_TRACE_OUT } });
