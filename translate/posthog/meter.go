package posthog

import (
	"errors"
	"math"
	"strconv"
)

// budgetChunk is the least an outputMeter reserves from a Budget at a time,
// so that a stream is not charged read by read.
const budgetChunk = 64 << 10

// paceBytes is the output a stage produces between two yields to a Budget
// that is a Yielder.
const paceBytes = 256 << 10

// outputMeter bounds every decoding stage of one request and charges the
// memory the stages allocate to the request's Budget.
type outputMeter struct {
	limit   int   // the most bytes one stage may produce
	kind    error // ErrTooLarge or ErrDecodeRatio: the bound limit comes from
	ratio   int   // for ErrDecodeRatio's message
	wire    int
	budget  Budget
	held    int // bytes the stages have allocated
	charged int // bytes reserved from budget
	yielder Yielder
	paced   int // the output length at the last yield
}

// newOutputMeter bounds stages by l's absolute cap and by its ratio to the
// wire bytes received (never below DecodeRatioFloor).
func newOutputMeter(l Limits, wire int) outputMeter {
	m := outputMeter{limit: l.MaxDecoded, kind: ErrTooLarge, ratio: l.MaxDecodeRatio, wire: wire, budget: l.Budget}
	m.yielder, _ = l.Budget.(Yielder)
	byRatio := max(int(min(int64(l.MaxDecodeRatio)*int64(wire), math.MaxInt32)), DecodeRatioFloor)
	if byRatio < m.limit {
		m.limit, m.kind = byRatio, ErrDecodeRatio
	}
	return m
}

// unboundedMeter is a meter with only an absolute limit (none when limit
// is zero or less) and no budget.
func unboundedMeter(limit int) *outputMeter {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	return &outputMeter{limit: limit, kind: ErrTooLarge}
}

// limitError is a stage's output passing the meter's limit.
type limitError struct {
	kind error
	msg  string
}

func (e *limitError) Error() string { return e.msg }

// Unwrap lets callers match every output limit with errOutputLimit.
func (e *limitError) Unwrap() error { return errOutputLimit }

// budgetError is the Budget refusing more decoded bytes.
type budgetError struct{ err error }

func (e *budgetError) Error() string { return "no room for decoded bytes: " + e.err.Error() }
func (e *budgetError) Unwrap() error { return e.err }

// fits checks that a stage producing n bytes stays within the limit, and
// yields to the budget every paceBytes of a stage's output.
func (m *outputMeter) fits(n int) error {
	if n < m.paced {
		m.paced = n // a new stage
	}
	if m.yielder != nil && n-m.paced >= paceBytes {
		m.paced = n
		m.yielder.Yield()
	}
	if n <= m.limit {
		return nil
	}
	msg := "decoded size passes the limit of " + strconv.Itoa(m.limit) + " bytes"
	if m.kind == ErrDecodeRatio {
		msg = "decoded size passes " + strconv.Itoa(m.ratio) + " times the " + strconv.Itoa(m.wire) + " bytes received"
	}
	return &limitError{kind: m.kind, msg: msg}
}

// grow records n more bytes allocated by a stage, reserving them from the
// budget (in chunks of at least budgetChunk) before they are allocated.
func (m *outputMeter) grow(n int) error {
	m.held += n
	if m.budget == nil || m.held <= m.charged {
		return nil
	}
	r := max(m.held-m.charged, budgetChunk)
	if err := m.budget.Reserve(r); err != nil {
		return &budgetError{err: err}
	}
	m.charged += r
	return nil
}

// stageError turns a stage's failure into an *Error: a limit keeps its
// kind, a refused budget is ErrOverloaded, anything else ErrInvalidPayload.
func stageError(stage string, err error) error {
	var le *limitError
	var be *budgetError
	switch {
	case errors.As(err, &le):
		return wrapError(le.kind, stage, err)
	case errors.As(err, &be):
		return wrapError(ErrOverloaded, stage, err)
	}
	return wrapError(ErrInvalidPayload, stage, err)
}
