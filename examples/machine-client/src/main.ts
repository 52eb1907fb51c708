import { runMachineClient } from './client.js'

const options = {
  baseUrl: process.env.BASE_URL ?? 'http://127.0.0.1:8000',
  username: process.env.WSAUTH_USERNAME ?? 'johndoe',
  password: process.env.WSAUTH_PASSWORD ?? 'secret',
}

try {
  for (const { transport, welcome, echo } of await runMachineClient(options)) {
    console.log(`${transport}: ${welcome} / ${echo}`)
  }
} catch (error) {
  console.error(`machine-client: ${(error as Error).message}`)
  process.exitCode = 1
}
