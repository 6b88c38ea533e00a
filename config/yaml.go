package config

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// applyYAML sets every known top-level key of the YAML document. Unknown keys are
// an error, so a typo does not silently fall back to a default. Sections that
// belong to later features (e.g. conversions) are kept for their own loaders.
func applyYAML(c *Config, raw []byte, path string) error {
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("HOGSEND_CONFIG: parse %s: %w", path, err)
	}
	known := make(map[string]field, len(fields))
	for _, f := range fields {
		known[f.yaml] = f
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		node := doc[k]
		f, ok := known[k]
		if !ok {
			if k == "conversions" {
				// Parsed by conversions/platforms, which knows the
				// platforms; kept raw here.
				c.Conversions = &node
				continue
			}
			return fmt.Errorf("HOGSEND_CONFIG: %s: unknown key %q", path, k)
		}
		if node.Kind != yaml.ScalarNode {
			return fmt.Errorf("HOGSEND_CONFIG: %s: %s must be a scalar", path, k)
		}
		if err := f.set(c, strings.TrimSpace(node.Value)); err != nil {
			return fmt.Errorf("HOGSEND_CONFIG: %s: %s: %w", path, k, err)
		}
	}
	return nil
}
