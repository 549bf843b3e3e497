export { createRealtime } from './createRealtime.js'
