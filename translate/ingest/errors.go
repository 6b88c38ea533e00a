package ingest

import "errors"

// Errors of ingestion the native API answers with upstream's exact wording;
// the proxy maps them to statuses. The strings are wire contract, hence the
// capitals.
var (
	ErrNoEmailForLists = errors.New("Contact has no email; cannot manage list membership") //nolint:staticcheck // wire string
	ErrContactNotFound = errors.New("Contact not found")                                   //nolint:staticcheck
	ErrNotDurable      = errors.New("records could not be made durable; retry")            // 503
)
