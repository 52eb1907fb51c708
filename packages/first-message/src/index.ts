import plugin from './plugin.js'

export default plugin
export { plugin as firstMessage }
export {
  DEFAULT_EXPIRING_NOTICE_MS, DEFAULT_MAX_PAYLOAD, DEFAULT_TIMEOUT_MS, type FirstMessageOptions,
} from './plugin.js'
export { DEFAULT_MESSAGE_NAMES, MessageCodec, type MessageNames } from './messages.js'
