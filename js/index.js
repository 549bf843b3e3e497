export { createRealtime } from './createRealtime.js'
export { docKey, listKey, listPrefix } from './keys.js'
