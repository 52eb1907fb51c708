// Regenerates the README's results: runs the Chromium test with AUTH_LAB_DOCS set, so the run that checks every row
// also writes docs/table.md and the screenshots, then puts the table into the README between its markers. Run with
// `pnpm --dir examples/auth-lab run table`; a failing test writes nothing into the README.
import { spawnSync } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const docs = fileURLToPath(new URL('../docs/', import.meta.url))
const readme = new URL('../README.md', import.meta.url)
const START = '<!-- lab-table:start (pnpm --dir examples/auth-lab run table) -->'
const END = '<!-- lab-table:end -->'

// A table left from an earlier run must not pass for this one's.
await rm(`${docs}table.md`, { force: true })
const run = spawnSync('pnpm', ['exec', 'tap', '--disable-coverage', 'examples/auth-lab/test/chromium.test.ts'], {
  cwd: root,
  env: { ...process.env, AUTH_LAB_DOCS: docs },
  stdio: 'inherit',
})
if (run.status !== 0) {
  console.error('the Chromium test failed: the README is left as it was')
  process.exit(1)
}

const table = await readFile(`${docs}table.md`, 'utf8')
const text = await readFile(readme, 'utf8')
const start = text.indexOf(START)
const end = text.indexOf(END)
if (start === -1 || end < start) throw new Error(`README.md has no ${START} … ${END} markers`)
await writeFile(readme, `${text.slice(0, start + START.length)}\n\n${table}\n${text.slice(end)}`)
console.log(`README.md: table written; screenshots in ${docs}`)
