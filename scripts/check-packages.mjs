// Checks every published package as a user installs it: packed by `pnpm pack` (so `workspace:*` is replaced by a
// version), then the tarball goes through publint (any message, a suggestion included, fails) and Are the Types Wrong
// (the ESM-only profile: these packages are ESM for Node 20+; offline: a local tarball, no DefinitelyTyped lookup).
// It also checks what neither tool knows about this repo: each tarball ships the root LICENSE, and each package
// carries the release settings (repository directory, public access, sideEffects) and sits in the changesets group
// that releases all packages together. Needs a build first (`tsc -b`): the tarballs take `dist` as it is.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const root = new URL('..', import.meta.url).pathname
const license = readFileSync(join(root, 'LICENSE'), 'utf8')
const fixed = JSON.parse(readFileSync(join(root, '.changeset/config.json'), 'utf8')).fixed
const attw = join(root, 'node_modules/.bin/attw')

function run (command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' })
  if (result.error !== undefined) throw result.error
  return result
}

function releaseProblems (dir, pkg) {
  const problems = []
  if (pkg.repository?.directory !== `packages/${dir}`) problems.push(`repository.directory is not "packages/${dir}"`)
  if (pkg.publishConfig?.access !== 'public') problems.push('publishConfig.access is not "public"')
  if (pkg.sideEffects === undefined) problems.push('no sideEffects')
  if (pkg.license !== 'MIT') problems.push('license is not MIT')
  if (!pkg.files?.includes('LICENSE')) problems.push('files does not list LICENSE')
  if (fixed.length !== 1 || !fixed[0].includes(pkg.name)) problems.push('not in the one changesets fixed group')
  return problems
}

const destination = mkdtempSync(join(tmpdir(), 'wsauth-packs-'))
let failed = 0
try {
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const cwd = join(root, 'packages', dir)
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'))
    if (pkg.private === true) continue
    const problems = releaseProblems(dir, pkg)

    const packed = run('pnpm', ['pack', '--pack-destination', destination, '--json'], cwd)
    if (packed.status !== 0) throw new Error(`pnpm pack failed in packages/${dir}:\n${packed.stderr}`)
    const tarball = JSON.parse(packed.stdout).filename

    const shipped = run('tar', ['-xOzf', tarball, 'package/LICENSE'], root)
    if (shipped.status !== 0 || shipped.stdout !== license) problems.push('the tarball does not ship the root LICENSE')

    const bytes = readFileSync(tarball)
    const lint = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) }, strict: true })
    for (const message of lint.messages) problems.push(`publint ${message.type}: ${formatMessage(message, lint.pkg, { color: false })}`)

    const types = run(attw, [tarball, '--profile', 'esm-only', '--no-definitely-typed', '--format', 'ascii', '--no-emoji', '--no-color'], root)
    if (types.status !== 0) problems.push(`attw:\n${types.stdout}${types.stderr}`)

    if (problems.length === 0) {
      console.log(`ok ${pkg.name}: packed, publint and attw (esm-only) clean, LICENSE shipped`)
    } else {
      failed++
      console.log(`not ok ${pkg.name}:\n  ${problems.join('\n  ')}`)
    }
  }
} finally {
  rmSync(destination, { recursive: true, force: true })
}
process.exitCode = failed === 0 ? 0 : 1
