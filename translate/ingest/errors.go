package ingest

import (
	"errors"
	"fmt"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// Errors of ingestion the native API answers with upstream's exact wording;
// the proxy maps them to statuses. The strings are wire contract, hence the
// capitals.
var (
	ErrNoEmailForLists = errors.New("Contact has no email; cannot manage list membership") //nolint:staticcheck // wire string
	ErrContactNotFound = errors.New("Contact not found")                                   //nolint:staticcheck
	ErrNotDurable      = errors.New("records could not be made durable; retry")            // 503
)

// IsUnavailable reports errors the proxy answers with 503 and Retry-After.
func IsUnavailable(err error) bool {
	return errors.Is(err, identity.ErrUnavailable) || errors.Is(err, ErrNotDurable) || errors.Is(err, ErrClaimPending)
}

// storeDown marks a failed identity store call as identity.ErrUnavailable
// (503), keeping the cause matchable (a deadline, a closed coalescer).
func storeDown(what string, err error) error {
	if errors.Is(err, identity.ErrUnavailable) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, identity.ErrUnavailable, err)
}
