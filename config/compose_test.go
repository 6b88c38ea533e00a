package config

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// composeVar is ${NAME}, ${NAME:-default} or ${NAME:?message}.
var composeVar = regexp.MustCompile(`\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}`)

// Every proxy service of docker-compose.yml (the default one and the fleet
// profile's) runs with a configuration the proxy accepts: known variables
// only, values that validate, and a Redis URL the store can open.
func TestComposeProxiesConfigure(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, v := range Variables() {
		known[v[0]] = true
	}
	proxies := 0
	for name, svc := range compose.Services {
		env := map[string]string{}
		for k, v := range svc.Environment {
			if strings.HasPrefix(k, "HOGSEND_") {
				env[k] = expandCompose(v)
			}
		}
		if len(env) == 0 {
			continue
		}
		proxies++
		for k := range env {
			if !known[k] {
				t.Errorf("%s: %s is not a variable of the proxy", name, k)
			}
		}
		if _, err := Load(func(k string) string { return env[k] }); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if u := env["HOGSEND_REDIS_URL"]; u != "" {
			if _, err := identity.ParseRedisURL(u); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if proxies != 3 {
		t.Fatalf("%d proxy services in docker-compose.yml, want 3 (proxy, fleet-proxy-1, fleet-proxy-2)", proxies)
	}
}

// expandCompose substitutes compose's variables: a default where given, a
// placeholder for a required one.
func expandCompose(v string) string {
	return composeVar.ReplaceAllStringFunc(v, func(m string) string {
		p := composeVar.FindStringSubmatch(m)
		if p[2] == "-" {
			return p[3]
		}
		return "set-by-the-operator"
	})
}
