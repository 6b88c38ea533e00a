package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var validID = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// operators lists the valid condition operators, in error-message order.
var operators = []string{OpEq, OpNeq, OpGt, OpGte, OpLt, OpLte, OpContains, OpExists, OpNotExists}

// Parse reads the `conversions.rules` sequence node. known is the set of
// configured destination names; a rule naming another destination is an
// error. Every error names the rule (by id, or by index when the id is
// missing or invalid) and the field, e.g.
// `conversions.rules[paid_subscription].value.divide_by: must be greater than 0`.
// Unknown keys are errors. A null or absent node is no rules.
func Parse(node *yaml.Node, known map[string]bool) ([]Rule, error) {
	node = deref(node)
	if isNull(node) {
		return nil, nil
	}
	if node.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("conversions.rules: must be a sequence")
	}
	rules := make([]Rule, 0, len(node.Content))
	first := make(map[string]int, len(node.Content))
	for i, n := range node.Content {
		r, err := parseRule(i, deref(n), known)
		if err != nil {
			return nil, err
		}
		if j, dup := first[r.ID]; dup {
			return nil, fmt.Errorf("conversions.rules[%d].id: %q is already the id of conversions.rules[%d]", i, r.ID, j)
		}
		first[r.ID] = i
		rules = append(rules, r)
	}
	return rules, nil
}

func parseRule(i int, n *yaml.Node, known map[string]bool) (Rule, error) {
	path := fmt.Sprintf("conversions.rules[%d]", i)
	if n == nil || n.Kind != yaml.MappingNode {
		return Rule{}, fmt.Errorf("%s: must be a mapping", path)
	}
	// The id names the rule in every later message, so read it first.
	var r Rule
	for j := 0; j+1 < len(n.Content); j += 2 {
		if k := deref(n.Content[j]); k != nil && k.Value == "id" {
			id, err := stringOf(path+".id", deref(n.Content[j+1]))
			if err != nil {
				return Rule{}, err
			}
			if id == "" {
				break
			}
			if !validID.MatchString(id) {
				return Rule{}, fmt.Errorf("%s.id: %q is not a valid id (want letters, digits and _ . : -)", path, id)
			}
			r.ID = id
			path = "conversions.rules[" + id + "]"
			break
		}
	}
	f, err := fieldsOf(path, n, "id", "trigger", "sources", "value", "attribution_window", "destinations")
	if err != nil {
		return Rule{}, err
	}
	if r.ID == "" {
		return Rule{}, fmt.Errorf("%s.id: required", path)
	}
	if r.Event, r.Where, err = parseTrigger(path+".trigger", f["trigger"]); err != nil {
		return Rule{}, err
	}
	if r.Sources, err = parseSources(path+".sources", f["sources"]); err != nil {
		return Rule{}, err
	}
	if r.Value, err = parseValue(path+".value", f["value"]); err != nil {
		return Rule{}, err
	}
	if r.AttributionWindow, err = parseWindow(path+".attribution_window", f["attribution_window"]); err != nil {
		return Rule{}, err
	}
	if r.Destinations, err = parseDestinations(path+".destinations", f["destinations"], known); err != nil {
		return Rule{}, err
	}
	return r, nil
}

func parseTrigger(path string, n *yaml.Node) (string, []Condition, error) {
	if isNull(n) {
		return "", nil, fmt.Errorf("%s: required", path)
	}
	f, err := fieldsOf(path, n, "event", "where")
	if err != nil {
		return "", nil, err
	}
	event, err := stringOf(path+".event", f["event"])
	if err != nil {
		return "", nil, err
	}
	if strings.TrimSpace(event) == "" {
		return "", nil, fmt.Errorf("%s.event: required", path)
	}
	where := f["where"]
	if isNull(where) {
		return event, nil, nil
	}
	if where.Kind != yaml.SequenceNode {
		return "", nil, fmt.Errorf("%s.where: must be a sequence of conditions", path)
	}
	var conds []Condition
	for i, c := range where.Content {
		cond, err := parseCondition(fmt.Sprintf("%s.where[%d]", path, i), deref(c))
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, cond)
	}
	return event, conds, nil
}

func parseCondition(path string, n *yaml.Node) (Condition, error) {
	if n == nil {
		return Condition{}, fmt.Errorf("%s: must be a mapping", path)
	}
	f, err := fieldsOf(path, n, "property", "operator", "value")
	if err != nil {
		return Condition{}, err
	}
	var c Condition
	if c.Property, err = stringOf(path+".property", f["property"]); err != nil {
		return Condition{}, err
	}
	if c.Property == "" {
		return Condition{}, fmt.Errorf("%s.property: required", path)
	}
	if c.Operator, err = stringOf(path+".operator", f["operator"]); err != nil {
		return Condition{}, err
	}
	if c.Operator == "" {
		return Condition{}, fmt.Errorf("%s.operator: required", path)
	}
	if !slices.Contains(operators, c.Operator) {
		return Condition{}, fmt.Errorf("%s.operator: unknown operator %q (want one of %s)", path, c.Operator, strings.Join(operators, ", "))
	}
	v, has := f["value"]
	switch c.Operator {
	case OpExists, OpNotExists:
		if has {
			return Condition{}, fmt.Errorf("%s.value: not used by operator %s", path, c.Operator)
		}
		return c, nil
	}
	if !has {
		return Condition{}, fmt.Errorf("%s.value: required for operator %s", path, c.Operator)
	}
	if c.Value, err = scalarOf(path+".value", v); err != nil {
		return Condition{}, err
	}
	switch c.Operator {
	case OpGt, OpGte, OpLt, OpLte:
		if _, ok := c.Value.(float64); !ok {
			return Condition{}, fmt.Errorf("%s.value: must be a number for operator %s", path, c.Operator)
		}
	case OpContains:
		if _, ok := c.Value.(string); !ok {
			return Condition{}, fmt.Errorf("%s.value: must be a string for operator %s", path, c.Operator)
		}
	}
	return c, nil
}

func parseSources(path string, n *yaml.Node) (Sources, error) {
	if n == nil {
		return Sources{}, nil // the default
	}
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		if n.Value != "any" {
			return Sources{}, fmt.Errorf("%s: must be \"any\" or a list of sources, not %q", path, n.Value)
		}
		return Sources{Any: true}, nil
	case n.Kind != yaml.SequenceNode:
		return Sources{}, fmt.Errorf("%s: must be \"any\" or a list of sources", path)
	case len(n.Content) == 0:
		return Sources{}, fmt.Errorf("%s: must not be empty (omit it for the default, or say \"any\")", path)
	}
	s := Sources{Names: make([]string, 0, len(n.Content))}
	for i, item := range n.Content {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		name, err := stringOf(ipath, deref(item))
		if err != nil {
			return Sources{}, err
		}
		switch {
		case strings.TrimSpace(name) == "":
			return Sources{}, fmt.Errorf("%s: must not be empty", ipath)
		case name == "any":
			return Sources{}, fmt.Errorf("%s: \"any\" must be the whole value (sources: any), not a list item", ipath)
		case slices.Contains(s.Names, name):
			return Sources{}, fmt.Errorf("%s: duplicate source %q", ipath, name)
		}
		s.Names = append(s.Names, name)
	}
	return s, nil
}

// valueKeys are the keys of a value spec; usedBy says which source uses each.
var (
	valueKeys = []string{"source", "amount", "currency", "key", "currency_key", "divide_by"}
	usedBy    = map[string][]string{
		"amount":       {ValueFixed},
		"currency":     {ValueFixed, ValueFromProperty},
		"key":          {ValueFromProperty},
		"currency_key": {ValueFromProperty},
		"divide_by":    {ValueFromProperty},
	}
)

func parseValue(path string, n *yaml.Node) (ValueSpec, error) {
	if n == nil {
		return ValueSpec{Source: ValueFromEvent}, nil
	}
	f, err := fieldsOf(path, n, valueKeys...)
	if err != nil {
		return ValueSpec{}, err
	}
	v := ValueSpec{Source: ValueFromEvent}
	if sn, ok := f["source"]; ok {
		if v.Source, err = stringOf(path+".source", sn); err != nil {
			return ValueSpec{}, err
		}
	}
	switch v.Source {
	case ValueFromEvent, ValueFixed, ValueFromProperty, ValueNone:
	default:
		return ValueSpec{}, fmt.Errorf("%s.source: unknown source %q (want event, fixed, property or none)", path, v.Source)
	}
	for _, k := range valueKeys[1:] {
		if _, ok := f[k]; ok && !slices.Contains(usedBy[k], v.Source) {
			return ValueSpec{}, fmt.Errorf("%s.%s: not used by source %s", path, k, v.Source)
		}
	}
	if cn, ok := f["currency"]; ok {
		s, err := stringOf(path+".currency", cn)
		if err != nil {
			return ValueSpec{}, err
		}
		c, ok := currencyCode(s)
		if !ok {
			return ValueSpec{}, fmt.Errorf("%s.currency: %q is not a 3-letter currency code", path, s)
		}
		v.Currency = c
	}
	switch v.Source {
	case ValueFixed:
		an, ok := f["amount"]
		if !ok {
			return ValueSpec{}, fmt.Errorf("%s.amount: required for source fixed", path)
		}
		if v.Amount, err = numberOf(path+".amount", an); err != nil {
			return ValueSpec{}, err
		}
		if v.Currency == "" {
			return ValueSpec{}, fmt.Errorf("%s.currency: required for source fixed", path)
		}
	case ValueFromProperty:
		if v.Key, err = stringOf(path+".key", f["key"]); err != nil {
			return ValueSpec{}, err
		}
		if v.Key == "" {
			return ValueSpec{}, fmt.Errorf("%s.key: required for source property", path)
		}
		if ck, ok := f["currency_key"]; ok {
			if v.CurrencyKey, err = stringOf(path+".currency_key", ck); err != nil {
				return ValueSpec{}, err
			}
			if v.CurrencyKey == "" {
				return ValueSpec{}, fmt.Errorf("%s.currency_key: must not be empty", path)
			}
		}
		v.DivideBy = 1
		if dn, ok := f["divide_by"]; ok {
			if v.DivideBy, err = numberOf(path+".divide_by", dn); err != nil {
				return ValueSpec{}, err
			}
			if v.DivideBy <= 0 {
				return ValueSpec{}, fmt.Errorf("%s.divide_by: must be greater than 0", path)
			}
		}
	}
	return v, nil
}

// parseWindow reads a Go duration ("720h") or a number of days ("30d").
func parseWindow(path string, n *yaml.Node) (time.Duration, error) {
	if n == nil {
		return DefaultAttributionWindow, nil
	}
	s, err := stringOf(path, n)
	if err != nil {
		return 0, err
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok && days != "" && strings.Trim(days, "0123456789") == "" {
		n, err := strconv.ParseUint(days, 10, 64)
		if err != nil || n > uint64(MaxAttributionWindow/(24*time.Hour)) {
			return 0, fmt.Errorf("%s: must be at most 400d", path)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration (want e.g. 720h or 30d)", path, s)
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("%s: must be greater than 0", path)
	case d > MaxAttributionWindow:
		return 0, fmt.Errorf("%s: must be at most 400d", path)
	}
	return d, nil
}

func parseDestinations(path string, n *yaml.Node, known map[string]bool) ([]Destination, error) {
	if isNull(n) {
		return nil, fmt.Errorf("%s: required", path)
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: must be a mapping of destination to event name", path)
	}
	pairs, err := pairsOf(path, n)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s: must name at least one destination", path)
	}
	dests := make([]Destination, 0, len(pairs))
	for _, p := range pairs {
		dpath := path + "." + p.key
		if !known[p.key] {
			return nil, fmt.Errorf("%s: unknown destination (configured: %s)", dpath, configured(known))
		}
		name, err := stringOf(dpath, p.value)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%s: event name required", dpath)
		}
		dests = append(dests, Destination{Name: p.key, EventName: name})
	}
	return dests, nil
}

func configured(known map[string]bool) string {
	var names []string
	for _, k := range slices.Sorted(maps.Keys(known)) {
		if known[k] {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
