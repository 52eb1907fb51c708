import plugin, { type SubprotocolTokenOptions } from './plugin.js'

export default plugin
export { plugin as subprotocolToken, type SubprotocolTokenOptions }
export {
  JUPYTER_MARKER, TOKEN_PREFIXES, subprotocolsWithToken, tokenSubprotocol, type SubprotocolFormat,
} from './protocol.js'
