// The head every browser test page shares, in one place: a classic (blocking) script, so it runs
// before the page's module scripts. query-core's unbundled build reads process.env.NODE_ENV (a
// bundler would replace it), and the pages import query-core and centrifuge-js by bare name.
window.process = { env: { NODE_ENV: 'development' } }
const importMap = document.createElement('script')
importMap.type = 'importmap'
importMap.textContent = JSON.stringify({
  imports: {
    '@tanstack/query-core': '/node_modules/@tanstack/query-core/build/modern/index.js',
    centrifuge: '/node_modules/centrifuge/build/index.mjs',
  },
})
document.currentScript.after(importMap)
