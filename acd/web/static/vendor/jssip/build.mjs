// Rebuilds jssip.min.js from the npm package exactly as upstream's `npm run build` does (esbuild, IIFE,
// global name JsSIP). The npm tarball ships only lib/ (CommonJS), no browser bundle, hence this script.
// Usage: see README.md in this folder.
import esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve('package.json'));
const pkgPath = require.resolve('jssip/package.json');
const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
const outfile = process.argv[2] || 'jssip.min.js';
const banner = `/*
 * JsSIP ${pkg.version} (npm jssip@${pkg.version}, bundled with esbuild for the acd softphone)
 * ${pkg.description}
 * Copyright: 2012-2026 ${pkg.contributors.join(' ')}
 * Homepage: ${pkg.homepage}
 * License: ${pkg.license}
 */`;
await esbuild.build({
  entryPoints: [path.join(path.dirname(pkgPath), 'lib/JsSIP.js')],
  outfile, bundle: true, minify: true, sourcemap: false, format: 'iife', globalName: 'JsSIP',
  platform: 'browser', target: ['es2015'], supported: { 'template-literal': false },
  banner: { js: banner }, legalComments: 'inline',
});
console.log(`wrote ${outfile} from jssip@${pkg.version}`);
