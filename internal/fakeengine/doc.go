// Package fakeengine is a strict fake of a Hogsend engine: a real HTTP
// server on a loopback port that checks keys, scopes, publishable origins
// and request bodies as the engine does, resolves contacts in memory
// (create, fill-in-link, merge, aliases, soft delete), keeps idempotency
// keys forever, runs journeys with exitOn so an event's exits are real, and
// answers the other routes @hogsend/client calls (emails, campaigns, lists,
// groups, flags, webhooks, links, referrals) with validated, plausible
// bodies. Faults come on demand through a fakeads.Script, and Stop and
// Restart give real outages. The contract it follows is
// docs/contracts/hogsend-api.md; where the engine differs from the proxy on
// purpose (permanent idempotency, exits), the fake is the engine.
package fakeengine
