// posthog-js in a jsdom page with api_host = the proxy: it loads its
// remote config and flags through the proxy, captures what the plan
// (argv[2], JSON) lists once they are in, and prints, as one JSON line, the
// uuid of every event it sent, each flag's answer (null when unknown), the
// remote config it got and each request the page made.
//
// plan: {host, token, distinctId, captures: [{event, properties}], flags: [key],
//        waitForFlags (default true; false captures once the config is in)}
'use strict'

const fs = require('node:fs')
const { JSDOM, VirtualConsole } = require('jsdom')

// posthog-js as a site loads it: the array.js bundle in the page, so its
// timers, script tags and XHRs are the window's.
const bundle = fs.readFileSync(require.resolve('posthog-js/dist/array.js'), 'utf8')

async function main() {
  const plan = JSON.parse(process.argv[2])
  const logs = []
  const virtualConsole = new VirtualConsole()
  virtualConsole.on('jsdomError', (err) => logs.push('jsdom: ' + err.message))
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', {
    url: 'http://shop.example/', runScripts: 'dangerously', resources: 'usable', pretendToBeVisual: true, virtualConsole,
  })
  const window = dom.window
  const requests = watchRequests(window)
  const configArrived = watchRemoteConfig(window, plan.token)
  window.eval(bundle)
  const posthog = window.posthog
  posthog.init(plan.token, {
    api_host: plan.host, request_batching: false, persistence: 'memory', autocapture: false,
    capture_pageview: false, capture_pageleave: false, disable_session_recording: true,
    bootstrap: { distinctID: plan.distinctId },
  })
  const flagsLoaded = new Promise((resolve) => posthog.onFeatureFlags(() => resolve()))
  const config = await configArrived
  if (plan.waitForFlags !== false) {
    await flagsLoaded
  }
  const flags = {}
  for (const key of plan.flags || []) {
    flags[key] = posthog.isFeatureEnabled(key, { send_event: false }) ?? null
  }
  const sent = []
  for (const c of plan.captures || []) {
    const result = posthog.capture(c.event, c.properties)
    sent.push({ uuid: result.uuid, event: result.event, distinctId: posthog.get_distinct_id() })
  }
  // request_batching off: one capture request per event.
  await requests.answeredAtLeast('/i/v0/e/', sent.length)
  window.close()
  process.stdout.write(JSON.stringify({ sent, flags, remoteConfig: config, requests: requests.list, logs }) + '\n')
}

// watchRemoteConfig resolves with the config that config.js, loaded by
// posthog-js as a script tag, puts in window._POSTHOG_REMOTE_CONFIG[token];
// the script sets the object, then its entry, so the entry is read a
// microtask after the set.
function watchRemoteConfig(window, token) {
  return new Promise((resolve) => {
    let configs
    Object.defineProperty(window, '_POSTHOG_REMOTE_CONFIG', {
      configurable: true,
      get: () => configs,
      set: (v) => {
        configs = v
        queueMicrotask(() => resolve(configs[token] && configs[token].config))
      },
    })
  })
}

// watchRequests records every XHR the page sends and lets the caller wait
// until n requests to a path have been answered.
function watchRequests(window) {
  const list = []
  let waiters = []
  const answered = (path) => list.filter((r) => r.status !== undefined && new URL(r.url).pathname === path).length
  const proto = window.XMLHttpRequest.prototype
  const realOpen = proto.open
  const realSend = proto.send
  proto.open = function (method, url, ...rest) {
    this._seen = { method, url: String(url) }
    return realOpen.call(this, method, url, ...rest)
  }
  proto.send = function (...args) {
    const seen = this._seen
    list.push(seen)
    this.addEventListener('loadend', () => {
      seen.status = this.status
      const ready = waiters.filter((w) => answered(w.path) >= w.n)
      waiters = waiters.filter((w) => !ready.includes(w))
      ready.forEach((w) => w.resolve())
    })
    return realSend.apply(this, args)
  }
  const answeredAtLeast = (path, n) =>
    answered(path) >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ path, n, resolve }))
  return { list, answeredAtLeast }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n')
  process.exit(1)
})
