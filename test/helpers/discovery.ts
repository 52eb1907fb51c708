import { createRequire } from 'node:module'
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import { OUTCOMES, type DiscoveryCloseCode } from '@wsauth/core'

// The schema exactly as @wsauth/core publishes it (its package.json export), not a copy.
const schema = createRequire(import.meta.url)('@wsauth/core/discovery.schema.json') as object
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema)

/** The schema's complaints about `document`, as `<path> <message>` lines; none for a valid discovery document. */
export function discoveryErrors (document: unknown): string[] {
  if (validate(document)) return []
  return (validate.errors ?? []).map((error: ErrorObject) => `${error.instancePath || '/'} ${error.message ?? ''}`.trim())
}

/** `closeCodes` as the document lists them: one entry per row of core's outcome table. */
export function discoveryCloseCodes (): DiscoveryCloseCode[] {
  return Object.entries(OUTCOMES).map(([outcome, rule]) => ({ outcome, code: rule.closeCode, reason: rule.reason }))
}
