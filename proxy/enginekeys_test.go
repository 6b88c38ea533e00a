package proxy

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// keyEngine is an engine fake whose GET /v1/contacts/me knows some keys: a
// secret one, a publishable one from one Origin, and (once revoked is set)
// refuses the secret one too.
type keyEngine struct {
	*engineFake
	checks  atomic.Int64
	revoked atomic.Bool
}

func newKeyEngine(t *testing.T) *keyEngine {
	k := &keyEngine{engineFake: newEngineFake(t)}
	k.answer(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/contacts/me" || r.Method != "GET" {
			w.WriteHeader(400)
			return
		}
		k.checks.Add(1)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch auth := r.Header.Get("Authorization"); {
		case auth == "Bearer hsk_engine_secret" && !k.revoked.Load():
			io.WriteString(w, `{"contact":null}`)
		case auth == "Bearer pk_engine_browser" && r.Header.Get("Origin") == "https://app.example":
			io.WriteString(w, `{"contact":null}`)
		case auth == "Bearer pk_engine_browser":
			w.WriteHeader(403)
			io.WriteString(w, `{"error":"Forbidden: origin not allowed","engine":true}`)
		default:
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"Unauthorized","engine":true}`)
		}
	})
	return k
}

func engineAuth(t *testing.T, engine *keyEngine) (*authFixture, *time.Time) {
	f := newAuthFixture(t)
	up, err := NewUpstream(UpstreamOptions{URL: engine.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f.a.VerifyWithEngine(up)
	return f, &f.clock
}

// TestEngineKeys: a key the proxy does not know is verified with the
// engine, cached for a minute (so a revocation there applies here within
// it), and the engine's refusals reach the client as it wrote them; the
// proxy's own keys never ask the engine.
func TestEngineKeys(t *testing.T) {
	engine := newKeyEngine(t)
	f, clock := engineAuth(t, engine)
	ctx := context.Background()
	auth := func(key, origin string) (Principal, *authError) {
		return f.a.Authenticate(ctx, []byte("Bearer "+key), []byte(origin), "192.0.2.7")
	}

	p, aerr := auth("hsk_engine_secret", "")
	if aerr != nil || !p.CanIngest() || p.Publishable {
		t.Fatalf("engine secret key: %+v %+v, want an ingest principal", p, aerr)
	}
	auth("hsk_engine_secret", "")
	if n := engine.checks.Load(); n != 1 {
		t.Fatalf("%d checks with the engine for two requests within a minute, want 1", n)
	}
	engine.revoked.Store(true)
	*clock = clock.Add(engineKeyTTL - time.Second)
	if _, aerr := auth("hsk_engine_secret", ""); aerr != nil {
		t.Fatalf("revoked in the engine, within the minute: %+v, want the cached verdict", aerr)
	}
	*clock = clock.Add(2 * time.Second)
	_, aerr = auth("hsk_engine_secret", "")
	if aerr == nil || aerr.status != 401 || string(aerr.raw) != `{"error":"Unauthorized","engine":true}` {
		t.Fatalf("revoked in the engine, past the minute: %+v, want the engine's 401 as sent", aerr)
	}

	p, aerr = auth("pk_engine_browser", "https://app.example")
	if aerr != nil || !p.Publishable || p.CanIngest() {
		t.Fatalf("engine publishable key from its origin: %+v %+v", p, aerr)
	}
	_, aerr = auth("pk_engine_browser", "https://evil.example")
	if aerr == nil || aerr.status != 403 || aerr.contentType != "application/json; charset=utf-8" {
		t.Fatalf("engine publishable key from another origin: %+v, want the engine's 403", aerr)
	}

	checks := engine.checks.Load()
	if _, aerr := auth(f.key, ""); aerr != nil || engine.checks.Load() != checks {
		t.Fatalf("the proxy's own key: %+v, %d new engine checks; want admitted without the engine", aerr, engine.checks.Load()-checks)
	}
}

// TestEngineKeysDown: with the engine unreachable an unknown key gets 503,
// not 401, and the proxy's own keys keep working.
func TestEngineKeysDown(t *testing.T) {
	engine := newKeyEngine(t)
	f, _ := engineAuth(t, engine)
	engine.Close()
	if _, aerr := f.a.Authenticate(context.Background(), []byte("Bearer hsk_engine_secret"), nil, "192.0.2.8"); aerr != errAuthBackend {
		t.Fatalf("engine down: %+v, want errAuthBackend (503)", aerr)
	}
	if aerr := f.auth(f.key, "192.0.2.8"); aerr != nil {
		t.Fatalf("the proxy's own key with the engine down: %+v", aerr)
	}
}

// TestEngineRefusalReachesClient: over HTTP, the engine's 401 body is the
// answer, byte for byte.
func TestEngineRefusalReachesClient(t *testing.T) {
	engine := newKeyEngine(t)
	up, err := NewUpstream(UpstreamOptions{URL: engine.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{Upstream: up}, nil, nil)
	ts.srv.auth.VerifyWithEngine(up)
	r := ts.do("POST", "/v1/events", `{"name":"e","userId":"u"}`, "Authorization: Bearer hsk_unknown_everywhere", "Content-Type: application/json")
	if r.status != 401 || r.body != `{"error":"Unauthorized","engine":true}` {
		t.Fatalf("%d %s, want the engine's 401", r.status, r.body)
	}
	r = ts.do("POST", "/v1/events", `{"name":"e","userId":"u"}`, "Authorization: Bearer hsk_engine_secret", "Content-Type: application/json")
	if r.status != 202 {
		t.Fatalf("engine key on a route served here: %d %s, want 202", r.status, r.body)
	}
}
