// Builds the browser bundle: one ESM file with no imports, dist/browser/wsauth-client.js (minified, with a source
// map). With --size, prints its size minified and minified+gzipped, against the 4 KB target.
import { readFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const outfile = new URL('../dist/browser/wsauth-client.js', import.meta.url).pathname
await build({
  entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
})

if (process.argv.includes('--size')) {
  const code = await readFile(outfile)
  const gzipped = gzipSync(code, { level: 9 }).length
  const target = 4096
  console.log(`@wsauth/client browser bundle: ${code.length} B minified, ${gzipped} B min+gzip ` +
    `(target ${target} B: ${gzipped <= target ? 'met' : `missed by ${gzipped - target} B`})`)
}
