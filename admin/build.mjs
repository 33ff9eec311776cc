// build.mjs: bundles the dashboard into dist/ (index.html, app.js, app.css).
// Usage: npm run build            (minified, what orderapi serves from ADMIN_DIR=admin/dist)
//        npm run build -- --dev   (readable output with inline source maps)
//        node build.mjs --outdir DIR   (build somewhere else, e.g. a test's temp dir)
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const outArg = process.argv.indexOf('--outdir');
const dist = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, 'dist');
const dev = process.argv.includes('--dev');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
const result = await build({
  entryPoints: { app: join(root, 'src/main.js') }, // main.js imports style.css → app.css
  outdir: dist,
  bundle: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
await copyFile(join(root, 'src/index.html'), join(dist, 'index.html'));
for (const [file, out] of Object.entries(result.metafile.outputs)) {
  console.log(`${file.padEnd(24)} ${(out.bytes / 1024).toFixed(1)} KiB`);
}
