package clickhouse

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// A failed insert is either the server's or the network's fault, and then
// the same rows are retried until they go in, or the rows' fault: some row
// holds a value ClickHouse (or the client library, while encoding the block)
// refuses, and no retry can fix it. Only errors positively recognised as
// the rows' fault count as such; everything else (connection refused or
// reset, timeouts, the server down or shutting down, "too many parts",
// memory limits, unknown errors) is retried, so nothing is ever dropped on
// a guess.

// failure is what a failed insert calls for.
type failure int

const (
	// failRetry: retry the same rows with backoff (outage, overload, unknown).
	failRetry failure = iota
	// failRows: some rows are refused; split the insert to find them and
	// dead-letter them, inserting the rest.
	failRows
	// failSplit: the insert as a whole is too big for the server (too many
	// partitions in one block), though every row is fine; insert it in
	// smaller pieces.
	failSplit
)

func (f failure) String() string {
	switch f {
	case failRows:
		return "rows refused"
	case failSplit:
		return "insert too big"
	}
	return "retry"
}

// dataErrorCodes are the ClickHouse exception codes (src/Common/ErrorCodes.cpp)
// an INSERT fails with when a value in its rows cannot be parsed or stored:
// the same rows fail the same way on every retry.
var dataErrorCodes = map[int32]string{
	6:   "CANNOT_PARSE_TEXT",
	25:  "CANNOT_PARSE_ESCAPE_SEQUENCE",
	26:  "CANNOT_PARSE_QUOTED_STRING",
	27:  "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
	38:  "CANNOT_PARSE_DATE",
	41:  "CANNOT_PARSE_DATETIME",
	53:  "TYPE_MISMATCH",
	69:  "ARGUMENT_OUT_OF_BOUND",
	70:  "CANNOT_CONVERT_TYPE",
	72:  "CANNOT_PARSE_NUMBER",
	117: "INCORRECT_DATA",
	128: "TOO_LARGE_ARRAY_SIZE",
	131: "TOO_LARGE_STRING_SIZE",
	321: "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
	349: "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN",
	376: "CANNOT_PARSE_UUID",
	407: "DECIMAL_OVERFLOW",
	467: "CANNOT_PARSE_BOOL",
}

// codeTooManyParts is TOO_MANY_PARTS: usually merges lagging behind inserts
// (retry later), but also "too many partitions for single INSERT block"
// (max_partitions_per_insert_block, modern servers), which smaller inserts fix.
const codeTooManyParts = 252

// textExceptionCode finds the code in an exception passed on as text, as
// libchdb reports it: "Code: 69. DB::Exception: …".
var textExceptionCode = regexp.MustCompile(`\bCode: (\d+)\. DB::Exception`)

// exceptionCode is the ClickHouse exception code err carries, if any.
func exceptionCode(err error) (int32, bool) {
	var exc *proto.Exception
	if errors.As(err, &exc) {
		return exc.Code, true
	}
	m := textExceptionCode.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, false
	}
	code, perr := strconv.ParseInt(m[1], 10, 32)
	if perr != nil {
		return 0, false
	}
	return int32(code), true
}

// classifyInsertError says what a failed insert calls for.
func classifyInsertError(err error) failure {
	if err == nil {
		return failRetry
	}
	var re *refusedError
	if errors.As(err, &re) {
		return failRows
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &ne) {
		return failRetry
	}
	code, ok := exceptionCode(err)
	switch {
	case !ok:
		return failRetry
	case code == codeTooManyParts && strings.Contains(strings.ToLower(err.Error()), "partitions for single insert block"):
		return failSplit
	case dataErrorCodes[code] != "":
		return failRows
	}
	return failRetry
}

// refusedError marks a value refused on our side of the wire while the
// insert block was encoded (a Decimal that does not fit its column, a
// client-library conversion error): no IO happened, and the same rows would
// be refused again.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

func refused(err error) error { return &refusedError{err: err} }
