#!/usr/bin/env node
// The CLI is TypeScript run as-is (explicit .ts imports, like the rest of the workspace), so the
// launcher registers tsx's ESM loader and hands over to src/main.ts; no build step to forget.
import { register } from "tsx/esm/api";

register();
await import(new URL("../src/main.ts", import.meta.url).href);
