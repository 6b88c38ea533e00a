package rules

import (
	"fmt"
	"math"
	"slices"

	"gopkg.in/yaml.v3"
)

// Helpers that read typed values out of yaml.Nodes. Each takes the dotted
// path of the node for its error messages.

// deref follows aliases (and unwraps a document) to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// pair is one key of a mapping node.
type pair struct {
	key   string
	value *yaml.Node
}

// pairsOf returns the entries of a mapping in YAML order, rejecting
// non-string and duplicate keys.
func pairsOf(path string, n *yaml.Node) ([]pair, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: must be a mapping", path)
	}
	pairs := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s: keys must be strings", path)
		}
		if slices.ContainsFunc(pairs, func(p pair) bool { return p.key == k.Value }) {
			return nil, fmt.Errorf("%s: duplicate key %q", path, k.Value)
		}
		pairs = append(pairs, pair{k.Value, deref(n.Content[i+1])})
	}
	return pairs, nil
}

// fieldsOf returns the entries of a mapping by key; a key outside allowed
// is an error.
func fieldsOf(path string, n *yaml.Node, allowed ...string) (map[string]*yaml.Node, error) {
	pairs, err := pairsOf(path, n)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*yaml.Node, len(pairs))
	for _, p := range pairs {
		if !slices.Contains(allowed, p.key) {
			return nil, fmt.Errorf("%s: unknown key %q", path, p.key)
		}
		m[p.key] = p.value
	}
	return m, nil
}

// stringOf reads a scalar as a string; null reads as "".
func stringOf(path string, n *yaml.Node) (string, error) {
	if isNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("%s: must be a string", path)
	}
	return n.Value, nil
}

// numberOf reads a finite YAML number (an unquoted int or float).
func numberOf(path string, n *yaml.Node) (float64, error) {
	var f float64
	if n == nil || n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&f) != nil {
		return 0, fmt.Errorf("%s: must be a number", path)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%s: must be a finite number", path)
	}
	return f, nil
}

// scalarOf reads a condition operand: a string, float64, bool or nil. A
// quoted "5" stays a string; timestamps stay the text they were written as.
func scalarOf(path string, n *yaml.Node) (any, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!timestamp":
			return n.Value, nil
		case "!!int", "!!float":
			return numberOf(path, n)
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b, nil
			}
		}
	}
	return nil, fmt.Errorf("%s: must be a string, number, boolean or null", path)
}
