package abuse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Answer is what one hostile request got back.
type Answer struct {
	Status      int  // 0 when no HTTP answer came
	Closed      bool // the proxy closed the connection without an answer
	Stuck       bool // nothing happened within the attack's bound
	Err         error
	Header      map[string]string // Retry-After and Content-Type, when sent
	Body        []byte
	HeadRequest bool // a HEAD request: the answer has no body
}

// Expect is what an attack's answers may be.
type Expect struct {
	Statuses []int // documented statuses for this attack
	CloseOK  bool  // a close without an answer is acceptable (slow clients)
}

// problem says what is wrong with a, or "" when a is a documented answer
// with a reason.
func (e Expect) problem(a Answer) string {
	switch {
	case a.Stuck:
		return "no answer and no close within the bound (connection held open)"
	case a.Status == 0 && a.Closed && e.CloseOK:
		return ""
	case a.Status == 0 && a.Closed:
		return "connection closed without an answer"
	case a.Status == 0:
		return fmt.Sprintf("no answer: %v", a.Err)
	case !slices.Contains(e.Statuses, a.Status):
		return fmt.Sprintf("status %d not documented here (want %v): %s", a.Status, e.Statuses, clip(a.Body))
	case a.Status == 429 && a.Header["Retry-After"] == "":
		return fmt.Sprintf("429 without Retry-After: %s", clip(a.Body))
	case a.Status >= 400 && !a.HeadRequest && reason(a) == "":
		return fmt.Sprintf("status %d without a reason: %q", a.Status, clip(a.Body))
	}
	return ""
}

// reason is the reason an error answer gives: the "error" of a native
// answer (a string, or the ZodError object's message), the "detail" of a
// capture answer, or the text of a plain-text answer.
func reason(a Answer) string {
	body := bytes.TrimSpace(a.Body)
	if !strings.Contains(a.Header["Content-Type"], "json") {
		return string(body)
	}
	var m struct {
		Error  json.RawMessage `json:"error"`
		Detail string          `json:"detail"`
		Code   string          `json:"code"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return ""
	}
	if m.Detail != "" && m.Code != "" {
		return m.Detail
	}
	var s string
	if json.Unmarshal(m.Error, &s) == nil {
		return s
	}
	var zod struct{ Name, Message string }
	if json.Unmarshal(m.Error, &zod) == nil && zod.Message != "" {
		return zod.Name + ": " + zod.Message
	}
	return ""
}

func clip(b []byte) string {
	const n = 160
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Result is one attack's tally: answers by status, and what was wrong.
type Result struct {
	Name     string
	Requests int
	Took     time.Duration

	mu       sync.Mutex
	counts   map[string]int
	problems map[string]int // problem text → how often
}

func newResult(name string) *Result {
	return &Result{Name: name, counts: map[string]int{}, problems: map[string]int{}}
}

// record tallies a and, when it breaks e, what is wrong with it.
func (r *Result) record(what string, a Answer, e Expect) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.Status == 0 && (errors.Is(a.Err, context.Canceled) || errors.Is(a.Err, context.DeadlineExceeded)) {
		r.counts["cancelled"]++ // the attack was stopped, not answered
		return
	}
	r.Requests++
	r.counts[label(a)]++
	if p := e.problem(a); p != "" {
		r.problems[what+": "+p]++
	}
}

// fail records a problem that is not about one answer.
func (r *Result) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems[fmt.Sprintf(format, args...)]++
}

func label(a Answer) string {
	switch {
	case a.Status != 0:
		return strconv.Itoa(a.Status)
	case a.Stuck:
		return "stuck"
	case a.Closed:
		return "closed"
	}
	return "error"
}

// Problems lists what was wrong, each with how often it happened.
func (r *Result) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.problems))
	for p, n := range r.problems {
		if n > 1 {
			p = fmt.Sprintf("%s (×%d)", p, n)
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Count is how many answers had label status ("413", "closed", "stuck").
func (r *Result) Count(status string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[status]
}

// Summary is the answers by status, e.g. "413×12 closed×3".
func (r *Result) Summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, 0, len(r.counts))
	for k := range r.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s×%d", k, r.counts[k])
	}
	return b.String()
}
