// The tabs' session behind `shareConnection` (js/share.js decides whether there is one): the
// election with Web Locks and the BroadcastChannel messages, protocol v1 (docs/SHARING.md). Loaded
// by js/share.js's `startShare` on first use (import()), so an app that never shares never loads it.
// Who leads goes INTO the core (`engine.shareRole`); what to subscribe, what a forwarded frame does
// to this tab's cache and when to refetch come out of it.
//
// Locks (all under `querywire:v1:<name>`, so apps with another `name` or another protocol version
// never meet):
//   `<prefix>:leader`     held by the leader while it leads; every connected tab queues for it.
//   `<prefix>:tab:<id>`   held by each engine for its whole life. Other tabs queue for it, so the
//                         browser tells them when that engine is gone, crashed renderers included.

export const SHARE_PROTOCOL = 1

function newId() {
  const c = globalThis.crypto
  if (typeof c?.randomUUID === 'function') return c.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

const isVisible = () => document.visibilityState !== 'hidden'
const ignore = () => {}

/**
 * Joins the tabs of `name`. Resolves once this engine holds its own tab lock (the others can then
 * tell when it goes). The returned object is driven by createRealtime: `send` is the engine's
 * `share` handler, `connect`/`disconnect` follow the app's own-transport connection, `channels`
 * follows this tab's channel set.
 */
export async function startShare(engine, { name, hiddenHandoverMs }) {
  const locks = navigator.locks
  const prefix = `querywire:v${SHARE_PROTOCOL}:${name}`
  const leaderLock = `${prefix}:leader`
  const id = newId()
  const life = new AbortController()

  let releaseTab = ignore
  await new Promise((held) => {
    locks
      .request(`${prefix}:tab:${id}`, { signal: life.signal }, () => new Promise((r) => { releaseTab = r; held() }))
      .catch(ignore)
  })

  const bc = new BroadcastChannel(prefix)
  let role = 'follower'
  let leaderId = null
  let leaderHiddenAt = null // when this tab learnt the leader was hidden (this tab's clock)
  let connected = false
  let paused = false // frozen by the browser
  let disposed = false
  let election = null // the AbortController of the pending or held leader-lock request
  let releaseLeader = ignore
  let stealTimer = null
  const tabs = new Map() // tab id -> { visible, watch: AbortController }

  engine.shareRole('follower')

  const post = (m) => {
    if (disposed) return
    try { bc.postMessage({ v: SHARE_PROTOCOL, from: id, ...m }) } catch { /* a closed channel */ }
  }

  function announce() {
    post({ t: 'channels', channels: connected ? engine.channels() : [], state: engine.shareState(), visible: isVisible(), connected })
  }

  // --- election ---------------------------------------------------------------------------------

  function promote() {
    if (disposed) return
    role = 'leader'
    leaderId = id
    leaderHiddenAt = null
    clearTimeout(stealTimer)
    post({ t: 'leader', visible: isVisible() })
    engine.shareRole('leader') // the core connects and forwards its status first
  }

  function demote() {
    if (role !== 'leader') return
    role = 'follower'
    if (leaderId === id) leaderId = null
    releaseLeader = ignore
    engine.shareRole('follower')
  }

  /** Queues for the leader lock (or takes it from a hidden leader with `steal`). */
  function campaign({ steal = false } = {}) {
    if (disposed || paused || !connected) return
    if (election && !steal) return
    election?.abort()
    const ac = new AbortController()
    election = ac
    const opts = steal ? { steal: true } : { signal: ac.signal }
    locks
      .request(leaderLock, opts, () => {
        if (election !== ac || ac.signal.aborted) return undefined // given up meanwhile
        return new Promise((release) => {
          releaseLeader = release
          ac.signal.addEventListener('abort', () => release())
          promote()
        })
      })
      .catch(ignore) // aborted, or stolen by a visible tab
      .finally(() => {
        if (election !== ac) return
        election = null
        demote()
        campaign()
      })
  }

  function abdicate() {
    clearTimeout(stealTimer)
    const ac = election
    election = null
    ac?.abort()
    releaseLeader()
    demote()
  }

  // A hidden leader's timers are throttled (Chromium: 1 s alignment at once, one wake-up a minute
  // after 5 minutes hidden), so a visible tab takes over after `hiddenHandoverMs`. One tab does:
  // the visible follower with the smallest id, by every tab's same view of who is visible.
  function considerSteal() {
    clearTimeout(stealTimer)
    stealTimer = null
    if (role === 'leader' || !connected || paused || leaderId === null || leaderHiddenAt === null || !isVisible()) return
    for (const [tab, t] of tabs) if (t.visible && t.connected && tab !== leaderId && tab < id) return
    const wait = Math.max(0, leaderHiddenAt + hiddenHandoverMs - Date.now())
    stealTimer = setTimeout(() => {
      stealTimer = null
      if (role !== 'leader' && leaderHiddenAt !== null && isVisible() && connected) campaign({ steal: true })
    }, wait)
  }

  // --- other tabs -------------------------------------------------------------------------------

  function know(tab, visible) {
    let t = tabs.get(tab)
    if (!t) {
      const watch = new AbortController()
      t = { visible: true, connected: false, watch }
      tabs.set(tab, t)
      // Granted when that engine's tab lock is released: it was disposed, closed or crashed.
      locks.request(`${prefix}:tab:${tab}`, { signal: watch.signal }, () => { if (tabs.get(tab)?.watch === watch) forget(tab) }).catch(ignore)
    }
    if (typeof visible === 'boolean') t.visible = visible
  }

  function forget(tab) {
    const t = tabs.get(tab)
    if (!t) return
    tabs.delete(tab)
    t.watch.abort()
    if (tab === leaderId) {
      leaderId = null
      leaderHiddenAt = null
    }
    if (!disposed) engine.shareForget(tab)
    considerSteal()
  }

  bc.onmessage = (e) => {
    const m = e.data
    if (disposed || !m || m.v !== SHARE_PROTOCOL || typeof m.from !== 'string' || m.from === id) return
    const from = m.from
    if (m.t === 'bye') return forget(from)
    know(from, m.visible)
    switch (m.t) {
      case 'hello':
        announce()
        if (role === 'leader') {
          post({ t: 'leader', visible: isVisible() })
          post({ t: 'status', status: engine.status() })
        }
        break
      case 'channels':
        tabs.get(from).connected = m.connected === true
        if (m.state) engine.shareMerge(m.state)
        engine.shareChannels(from, Array.isArray(m.channels) ? m.channels.map(String) : [])
        break
      case 'leader':
        leaderId = from
        leaderHiddenAt = m.visible === false ? Date.now() : null
        break
      case 'visibility':
        if (from === leaderId) leaderHiddenAt = m.visible ? null : (leaderHiddenAt ?? Date.now())
        break
      case 'frame':
      case 'status':
      case 'recover':
      case 'position':
        if (role === 'leader') break
        leaderId ??= from
        if (from !== leaderId) break // a demoted leader's last words; the new leader replays them
        if (m.t === 'frame') engine.shareFrame(String(m.text))
        else if (m.t === 'status') engine.shareStatus(String(m.status))
        else if (m.t === 'position') engine.sharePosition(String(m.channel), Number(m.offset), String(m.epoch))
        else engine.shareRecover(Array.isArray(m.channels) ? m.channels.map(String) : undefined)
        return // the hot path: nothing about who leads changed
      default:
        break
    }
    considerSteal()
  }

  // --- the page's life --------------------------------------------------------------------------

  const onVisibility = () => {
    post({ t: 'visibility', visible: isVisible() })
    considerSteal()
  }
  // A frozen tab runs nothing: it must neither lead nor wait in the queue (it would be granted the
  // lock and hold it frozen).
  const onFreeze = () => {
    paused = true
    abdicate()
  }
  const onResume = () => {
    paused = false
    post({ t: 'hello', visible: isVisible() })
    announce()
    campaign()
  }
  const onPageHide = () => post({ t: 'bye' })
  document.addEventListener('visibilitychange', onVisibility)
  document.addEventListener('freeze', onFreeze)
  document.addEventListener('resume', onResume)
  window.addEventListener('pagehide', onPageHide)

  post({ t: 'hello', visible: isVisible() })

  return {
    id,
    /** The engine's `share` handler: a message for the other tabs. */
    send(m) {
      if (role === 'leader') post(m)
    },
    /** The app connected its own transport in this tab. */
    connect() {
      connected = true
      announce()
      campaign()
    },
    /** The app disconnected it: another connected tab leads. */
    disconnect() {
      connected = false
      abdicate()
      announce()
    },
    /** This tab's channel set changed. */
    channels() {
      if (connected) announce()
    },
    role() {
      return role
    },
    /** The other engines of this name, by id. */
    tabs() {
      return tabs.size
    },
    dispose() {
      if (disposed) return
      abdicate()
      post({ t: 'bye' })
      disposed = true
      clearTimeout(stealTimer)
      for (const t of tabs.values()) t.watch.abort()
      tabs.clear()
      document.removeEventListener('visibilitychange', onVisibility)
      document.removeEventListener('freeze', onFreeze)
      document.removeEventListener('resume', onResume)
      window.removeEventListener('pagehide', onPageHide)
      bc.onmessage = null
      bc.close()
      life.abort()
      releaseTab()
    },
  }
}
