// posthog-node through the proxy: captures and identifies what the plan
// (argv[2], JSON) lists, asks the flags it names, flushes, shuts down and
// prints, as one JSON line, the uuid of every event the client sent and
// each flag's answer.
//
// plan: {host, token, captures: [{distinctId, event, properties, uuid}],
//        identify: {distinctId, properties}, flags: [{key, distinctId, call}]}
'use strict'

const { PostHog } = require('posthog-node')

async function main() {
  const plan = JSON.parse(process.argv[2])
  // flushAt 1000 and no interval: nothing leaves before flush(), so the
  // script decides when events are sent and leaves no timer behind.
  const client = new PostHog(plan.token, { host: plan.host, flushAt: 1000, flushInterval: 0, fetchRetryCount: 0 })
  const sent = []
  const errors = []
  for (const type of ['capture', 'identify']) {
    client.on(type, (message) => sent.push({ type, uuid: message.uuid, event: message.event, distinctId: message.distinct_id }))
  }
  client.on('error', (err) => errors.push(String(err && err.message ? err.message : err)))

  for (const c of plan.captures || []) {
    client.capture({ distinctId: c.distinctId, event: c.event, properties: c.properties, uuid: c.uuid })
  }
  if (plan.identify) {
    client.identify(plan.identify)
  }
  const flags = []
  for (const f of plan.flags || []) {
    flags.push({ key: f.key, distinctId: f.distinctId, call: f.call, value: await askFlag(client, f) })
  }
  await client.flush()
  await client.shutdown()
  process.stdout.write(JSON.stringify({ sent, flags, errors }) + '\n')
}

// askFlag answers a flag as the named call does; a thrown error is
// reported as {error} rather than ending the script.
async function askFlag(client, f) {
  try {
    const v = f.call === 'getFeatureFlag'
      ? await client.getFeatureFlag(f.key, f.distinctId)
      : await client.isFeatureEnabled(f.key, f.distinctId)
    return v === undefined ? { undefined: true } : v
  } catch (err) {
    return { error: String(err && err.message ? err.message : err) }
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n')
  process.exit(1)
})
