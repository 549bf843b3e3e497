// Our own transports (`rt.connectWebSocket` / `rt.connectEventSource`, wire protocol in
// docs/PROTOCOL.md): the socket handles, nothing else. The core's link decides when to connect, what
// to send and what a close means; the glue hands its `Connect` / `Close` / `Send` to `run` (the
// engine's `transport` handler, src/driver.rs), and the socket's open and close go back through
// `engine.transportEvent`, its frames through `frame` (the input buffer, `ingestInput(5, ..)`).
// A generation number tags each socket, so the events of a socket already closed are ignored.
export function ownTransport(sse, url, token, engine, frame) {
  let gen = 0
  let sock = null
  const lost = (g, code = -1) => {
    if (g === gen) engine.transportEvent(1, code)
  }
  // Closes the socket without reporting its close (the core already counts it as gone).
  function close() {
    if (sock) {
      sock.onopen = sock.onmessage = sock.onclose = sock.onerror = null
      sock.close()
      sock = null
    }
    gen++
  }
  function open(g, tok) {
    let s
    if (!sse) {
      try { s = new WebSocket(url) } catch { return lost(g) }
      // The glue sends the auth frame (the token's) before the core hears of the open.
      s.onopen = () => { if (g === gen) engine.transportEvent(0, 0, tok) }
      s.onclose = (e) => lost(g, typeof CloseEvent === 'function' && e instanceof CloseEvent ? e.code : -1)
    } else {
      let u = `${url}${url.includes('?') ? '&' : '?'}channels=${encodeURIComponent(engine.channels().join(','))}`
      if (tok !== undefined) u += `&token=${encodeURIComponent(tok)}`
      try { s = new EventSource(u) } catch { return lost(g) }
      s.onopen = () => { if (g === gen) engine.transportEvent(0, 0) }
      // A ping event proves the stream is alive; it carries no frame.
      s.addEventListener('ping', () => { if (g === gen) frame('{"type":"pong"}') })
      // EventSource would retry on its own schedule; the core's backoff decides instead.
      s.onerror = () => {
        s.close()
        lost(g)
      }
    }
    s.onmessage = (e) => { if (g === gen && typeof e.data === 'string') frame(e.data) }
    sock = s
  }
  return {
    close,
    // `op` as src/driver.rs sends it: 0 connect, 1 close, 2 send `text`.
    run(op, text) {
      if (op === 1) return close()
      if (op === 2) {
        if (!sse && sock?.readyState === 1) sock.send(text)
        return
      }
      // Connect: the token function first (it may return a Promise), so every connect carries a
      // fresh token. It is user code and may call back into the engine, or connect again.
      close()
      const g = gen
      if (!token) return open(g)
      let t
      try {
        t = token.call(null)
      } catch (e) {
        console.warn('[querywire] token() threw', e)
        return lost(g)
      }
      if (g !== gen) return // closed or replaced from inside token()
      if (t instanceof Promise) {
        t.then((v) => { if (g === gen && !sock) open(g, typeof v === 'string' && v !== '' ? v : undefined) }, () => lost(g))
      } else open(g, typeof t === 'string' ? t : undefined)
    },
  }
}
