// Package platforms reads the conversions section of the config: it builds
// each configured platform client, the rules and the delivery settings. It
// is the one place that knows every platform package.
package platforms

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/ga4"
	"github.com/hogsend/hogsend-proxy/conversions/googleads"
	"github.com/hogsend/hogsend-proxy/conversions/linkedin"
	"github.com/hogsend/hogsend-proxy/conversions/meta"
	"github.com/hogsend/hogsend-proxy/conversions/reddit"
	"github.com/hogsend/hogsend-proxy/conversions/rules"
	"github.com/hogsend/hogsend-proxy/conversions/tiktok"
)

// Settings is the parsed conversions section.
type Settings struct {
	Destinations []conversions.Destination // sorted by name
	Rules        []rules.Rule
	Consent      conversions.ConsentConfig
	Dispatch     conversions.DispatchOptions
}

// Enabled reports whether any conversion can be forwarded.
func (s *Settings) Enabled() bool { return s != nil && len(s.Rules) > 0 && len(s.Destinations) > 0 }

// Options are what the clients get besides their config.
type Options struct {
	HTTP *http.Client
	Now  func() time.Time
	// LookupEnv resolves ${VAR} in values (os.LookupEnv).
	LookupEnv func(string) (string, bool)
}

// builder makes one client from its YAML node.
type builder func(node *yaml.Node, o conversions.ClientOptions) (conversions.Destination, error)

// builders are the supported destinations by config key.
var builders = map[string]builder{
	"meta":       platform(meta.New),
	"google_ads": platform(googleads.New),
	"tiktok":     platform(tiktok.New),
	"linkedin":   platform(linkedin.New),
	"ga4":        platform(ga4.New),
	"reddit":     platform(reddit.New),
}

// platform is the builder of a client made by newClient from its config
// type C, decoded strictly.
func platform[C any, D conversions.Destination](newClient func(C, conversions.ClientOptions) (D, error)) builder {
	return func(n *yaml.Node, o conversions.ClientOptions) (conversions.Destination, error) {
		var c C
		if err := decodeStrict(n, &c); err != nil {
			return nil, err
		}
		d, err := newClient(c, o)
		if err != nil {
			return nil, err // not d: a nil *Client in an interface is not nil
		}
		return d, nil
	}
}

// Names lists the supported destinations.
func Names() []string {
	out := make([]string, 0, len(builders))
	for n := range builders {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Load parses the conversions section (nil: none configured). Every error
// names the path of the offending field, e.g.
// "conversions.destinations.meta: pixel_id: required".
func Load(node *yaml.Node, o Options) (*Settings, error) {
	s := &Settings{}
	if node == nil || node.Kind == 0 {
		return s, nil
	}
	if err := expandEnv(node, "conversions", o.LookupEnv); err != nil {
		return nil, err
	}
	if node.Kind != yaml.MappingNode {
		return nil, errors.New("conversions: must be a mapping")
	}
	copts := conversions.ClientOptions{HTTP: o.HTTP, Now: o.Now}
	var rulesNode *yaml.Node
	known := map[string]bool{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, val := node.Content[i].Value, node.Content[i+1]
		switch key {
		case "destinations":
			if val.Kind != yaml.MappingNode {
				return nil, errors.New("conversions.destinations: must be a mapping")
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				name, cfg := val.Content[j].Value, val.Content[j+1]
				build, ok := builders[name]
				if !ok {
					return nil, fmt.Errorf("conversions.destinations.%s: unknown destination (supported: %s)", name, strings.Join(Names(), ", "))
				}
				dest, err := build(cfg, copts)
				if err != nil {
					return nil, fmt.Errorf("conversions.destinations.%s: %w", name, err)
				}
				s.Destinations = append(s.Destinations, dest)
				known[name] = true
			}
		case "consent":
			var c struct {
				Property string `yaml:"property"`
				Require  bool   `yaml:"require"`
			}
			if err := decodeStrict(val, &c); err != nil {
				return nil, fmt.Errorf("conversions.consent: %w", err)
			}
			s.Consent = conversions.ConsentConfig{Property: strings.TrimSpace(c.Property), Require: c.Require}
			if s.Consent.Require && s.Consent.Property == "" {
				return nil, errors.New("conversions.consent.property: required when require is true")
			}
		case "delivery":
			var d struct {
				RetryInitial    time.Duration `yaml:"retry_initial"`
				RetryMax        time.Duration `yaml:"retry_max"`
				BreakerFailures uint32        `yaml:"breaker_failures"`
				BreakerOpenFor  time.Duration `yaml:"breaker_open_for"`
			}
			if err := decodeStrict(val, &d); err != nil {
				return nil, fmt.Errorf("conversions.delivery: %w", err)
			}
			if d.RetryInitial < 0 || d.RetryMax < 0 || d.BreakerOpenFor < 0 {
				return nil, errors.New("conversions.delivery: durations must not be negative")
			}
			if d.RetryMax > 0 && d.RetryInitial > d.RetryMax {
				return nil, errors.New("conversions.delivery.retry_initial: must not exceed retry_max")
			}
			s.Dispatch = conversions.DispatchOptions{
				RetryInitial: d.RetryInitial, RetryMax: d.RetryMax,
				BreakerFailures: d.BreakerFailures, BreakerOpenFor: d.BreakerOpenFor,
			}
		case "rules":
			rulesNode = val
		default:
			return nil, fmt.Errorf("conversions: unknown key %q (known: destinations, consent, delivery, rules)", key)
		}
	}
	sort.Slice(s.Destinations, func(i, j int) bool { return s.Destinations[i].Name() < s.Destinations[j].Name() })
	if rulesNode != nil {
		rs, err := rules.Parse(rulesNode, known)
		if err != nil {
			return nil, err
		}
		s.Rules = rs
	}
	return s, nil
}

// decodeStrict decodes node into v, refusing keys v does not have.
func decodeStrict(node *yaml.Node, v any) error {
	raw, err := yaml.Marshal(node)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// expandEnv replaces ${VAR} in every scalar under node, so that secrets stay
// out of the file. An unset variable is an error naming the field.
func expandEnv(node *yaml.Node, path string, lookup func(string) (string, bool)) error {
	switch node.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(node.Value, "${") {
			return nil
		}
		var missing []string
		node.Value = expand(node.Value, func(name string) string {
			v, ok := lookup(name)
			if !ok {
				missing = append(missing, name)
			}
			return v
		})
		if len(missing) > 0 {
			return fmt.Errorf("%s: environment variable %s is not set", path, strings.Join(missing, ", "))
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			if err := expandEnv(node.Content[i+1], path+"."+node.Content[i].Value, lookup); err != nil {
				return err
			}
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for i, c := range node.Content {
			if err := expandEnv(c, fmt.Sprintf("%s[%d]", path, i), lookup); err != nil {
				return err
			}
		}
	}
	return nil
}

// expand replaces ${NAME} only (not $NAME: a bare $ is common in tokens).
func expand(s string, get func(string) string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(get(s[i+2 : i+j]))
		s = s[i+j+1:]
	}
}
