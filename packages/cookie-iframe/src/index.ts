import plugin, { type CookieIframeOptions } from './plugin.js'

export default plugin
export { plugin as cookieIframe, type CookieIframeOptions }
