package conversions

import (
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultTimeout bounds one platform request when a destination sets none.
const DefaultTimeout = 30 * time.Second

// Timeout bounds one HTTP request to a platform, on top of the HTTP client's
// own timeout. In YAML it is a Go duration ("10s"); zero means
// DefaultTimeout, for every platform.
type Timeout time.Duration

// Duration is the bound to apply: t, or DefaultTimeout when t is zero.
func (t Timeout) Duration() time.Duration {
	if t == 0 {
		return DefaultTimeout
	}
	return time.Duration(t)
}

// Validate refuses a negative timeout.
func (t Timeout) Validate() error {
	if t < 0 {
		return fmt.Errorf("must not be negative, got %s", time.Duration(t))
	}
	return nil
}

// String prints the configured duration.
func (t Timeout) String() string { return time.Duration(t).String() }

// UnmarshalYAML reads a Go duration string; a bare number is refused
// because its unit would be a guess.
func (t *Timeout) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("timeout: must be a duration such as 30s")
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("timeout: %q is not a duration such as 30s", n.Value)
	}
	*t = Timeout(d)
	return nil
}
