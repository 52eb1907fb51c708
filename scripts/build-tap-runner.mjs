// Builds tap's test runner with the plugins configured in package.json (@tapjs/tsx instead of @tapjs/typescript).
// `tap build` installs every configured plugin into .tap/plugins from the registry unless that folder already holds
// it, and a second copy there brings a second @tapjs/core (t.mockImport then mocks the wrong one). Pointing that
// folder at the workspace's own @tapjs/tsx keeps one copy of everything, as the lockfile pins it.
import { spawnSync } from 'node:child_process'
import { mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs'

const plugins = '.tap/plugins/node_modules/@tapjs'
mkdirSync(plugins, { recursive: true })
rmSync(`${plugins}/tsx`, { recursive: true, force: true })
symlinkSync(realpathSync('node_modules/@tapjs/tsx'), `${plugins}/tsx`)

const build = spawnSync('tap', ['build'], { stdio: 'inherit', shell: process.platform === 'win32' })
process.exit(build.status ?? 1)
