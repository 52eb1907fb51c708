// The one parser of `Sec-WebSocket-Protocol`. Transports that carry a credential in an offered protocol (a token, a
// ticket) claim a prefix; the guard takes every claimed protocol out of the request before ws (which would echo the
// first offer) or the app's hooks and handler see it, and hands them to their claimant.
import type { IncomingMessage } from 'node:http'
import { headerLines, isToken } from '@wsauth/core'

const HEADER = 'sec-websocket-protocol'

/** A request's `Sec-WebSocket-Protocol` offer, split into what the app may see and what transports claimed. */
export interface SubprotocolOffer {
  /** The offered protocols no transport claimed, without surrounding whitespace, in the client's order; invalid ones too. */
  readonly protocols: readonly string[]
  /** The claimed protocols, whole (prefix included), in the client's order, by the prefix that claimed them. */
  readonly claimed: ReadonlyMap<string, readonly string[]>
}

const kOffer = Symbol('wsauth.subprotocol-offer')
type RawRequest = IncomingMessage & { [kOffer]?: SubprotocolOffer }

const NO_OFFER: SubprotocolOffer = Object.freeze({ protocols: Object.freeze([]), claimed: new Map() })

/**
 * A list element without the optional whitespace around it (RFC 9110 §5.6.1): spaces and tabs, nothing else. By
 * index, not by a global regex: a token protocol is hundreds of characters, and this runs on every handshake.
 */
function trimOws (element: string): string {
  let start = 0
  let end = element.length
  while (start < end && (element[start] === ' ' || element[start] === '\t')) start++
  while (end > start && (element[end - 1] === ' ' || element[end - 1] === '\t')) end--
  return start === 0 && end === element.length ? element : element.slice(start, end)
}

/** `rawHeaders` with the protocol lines replaced by `lines`, in place of the first one. */
function withLines (rawHeaders: readonly string[], lines: readonly string[]): string[] {
  const result: string[] = []
  let replaced = false
  for (let i = 0; i < rawHeaders.length - 1; i += 2) {
    const name = rawHeaders[i]!
    if (name.toLowerCase() !== HEADER) {
      result.push(name, rawHeaders[i + 1]!)
    } else if (!replaced) {
      replaced = true
      for (const line of lines) result.push(name, line)
    }
  }
  return result
}

/** ws's `handleProtocols` option: picks the protocol to echo from the offered ones. */
export type ProtocolChooser = (protocols: Set<string>, request: IncomingMessage) => string | false

/**
 * The protocol the 101 will echo for `offer`, decided as ws decides it: by `handleProtocols` when set, else the first
 * offered; `false` for none. `null` when ws will refuse the offer before any 101 (a name that is not a token, or one
 * offered twice), which is why this parser keeps invalid names.
 */
export function echoedProtocol (offer: SubprotocolOffer, request: IncomingMessage, handleProtocols: ProtocolChooser | null | undefined): string | false | null {
  const offered = new Set(offer.protocols)
  if (offered.size !== offer.protocols.length || !offer.protocols.every(isToken)) return null
  if (offered.size === 0) return false
  // ws's own default for the option is `null`.
  return handleProtocols == null ? offer.protocols[0]! : handleProtocols(offered, request)
}

/** The prefixes transports claimed, and each request's offer, parsed once. */
export class SubprotocolClaims {
  readonly #prefixes: string[] = []

  get size (): number {
    return this.#prefixes.length
  }

  /** Claims the offered protocols that start with `prefix` (case-sensitive). Two claims may not overlap. */
  claim (prefix: string): void {
    if (!isToken(prefix)) throw new Error(`@wsauth/ws-bearer: a subprotocol prefix must be a token, not ${JSON.stringify(prefix)}`)
    const overlapping = this.#prefixes.find((claimed) => claimed.startsWith(prefix) || prefix.startsWith(claimed))
    if (overlapping !== undefined) throw new Error(`@wsauth/ws-bearer: the subprotocol prefix ${prefix} overlaps ${overlapping}, claimed already`)
    this.#prefixes.push(prefix)
  }

  /**
   * The request's offer, parsed on first use. Claimed protocols are taken out of `headers` and `rawHeaders` right
   * away; a line left empty is gone.
   */
  offerOf (request: IncomingMessage): SubprotocolOffer {
    const raw = request as RawRequest
    const cached = raw[kOffer]
    if (cached !== undefined) return cached
    if (raw.headers[HEADER] === undefined) return NO_OFFER
    const protocols: string[] = []
    const claimed = new Map<string, string[]>()
    const kept: string[] = []
    let taken = false
    for (const line of headerLines(raw, HEADER)) {
      const keptOfLine: string[] = []
      for (const element of line.split(',')) {
        const protocol = trimOws(element)
        const prefix = this.#prefixes.find((candidate) => protocol.startsWith(candidate))
        if (prefix === undefined) {
          // Kept as sent, even when invalid: ws refuses such a list on its own.
          keptOfLine.push(protocol)
          protocols.push(protocol)
          continue
        }
        taken = true
        const ofPrefix = claimed.get(prefix)
        if (ofPrefix === undefined) claimed.set(prefix, [protocol])
        else ofPrefix.push(protocol)
      }
      if (keptOfLine.length > 0) kept.push(keptOfLine.join(', '))
    }
    const offer: SubprotocolOffer = { protocols, claimed }
    raw[kOffer] = offer
    if (taken) {
      if (kept.length === 0) delete raw.headers[HEADER]
      else raw.headers[HEADER] = kept.join(', ')
      // @fastify/websocket's injectWS builds a request without `rawHeaders`.
      const rawHeaders = raw.rawHeaders as string[] | undefined
      if (rawHeaders !== undefined) raw.rawHeaders = withLines(rawHeaders, kept)
    }
    return offer
  }
}
