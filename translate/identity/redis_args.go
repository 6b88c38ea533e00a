package identity

import (
	"strconv"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// textArgs builds script arguments as text in one buffer. go-redis boxes
// each argument into an interface, which allocates for a string or an
// integer; a *string does not. So appendTo hands them over as pointers into one
// slice of substrings of one string: a call's touches cost four
// allocations, not one or two per argument.
type textArgs struct {
	buf  []byte
	ends []int // where each argument ends in buf
}

// add appends one argument, the concatenation of parts.
func (t *textArgs) add(parts ...string) {
	for _, p := range parts {
		t.buf = append(t.buf, p...)
	}
	t.ends = append(t.ends, len(t.buf))
}

func (t *textArgs) addUint(v uint64) {
	t.buf = strconv.AppendUint(t.buf, v, 10)
	t.ends = append(t.ends, len(t.buf))
}

func (t *textArgs) addInt(v int64) {
	t.buf = strconv.AppendInt(t.buf, v, 10)
	t.ends = append(t.ends, len(t.buf))
}

// addUUID appends id in its 36-character form.
func (t *textArgs) addUUID(id uuid.UUID) {
	t.buf = canonical.AppendUUID(t.buf, id)
	t.ends = append(t.ends, len(t.buf))
}

// appendTo appends the arguments to args, each a *string.
func (t *textArgs) appendTo(args []any) []any {
	if len(t.ends) == 0 {
		return args
	}
	s := string(t.buf)
	strs := make([]string, len(t.ends))
	start := 0
	for i, end := range t.ends {
		strs[i] = s[start:end]
		start = end
		args = append(args, &strs[i])
	}
	return args
}
