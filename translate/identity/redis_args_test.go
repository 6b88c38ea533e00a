package identity

import (
	"testing"

	"github.com/google/uuid"
)

// textArgs must write what go-redis would have written for the values
// themselves, each argument a *string.
func TestTextArgs(t *testing.T) {
	id := uuid.MustParse("0192f0c4-7a1b-7c3d-8e4f-a0b1c2d3e4f5")
	var ta textArgs
	ta.addUUID(id)
	ta.addUint(18446744073709551615)
	ta.addInt(-42)
	ta.add("external", ":", "user-1")
	ta.add("")
	args := ta.appendTo([]any{"first"})
	want := []string{"first", id.String(), "18446744073709551615", "-42", "external:user-1", ""}
	if len(args) != len(want) {
		t.Fatalf("%d args, want %d", len(args), len(want))
	}
	for i, w := range want {
		var got string
		switch a := args[i].(type) {
		case string:
			got = a
		case *string:
			got = *a
		default:
			t.Fatalf("arg %d is %T", i, args[i])
		}
		if got != w {
			t.Errorf("arg %d = %q, want %q", i, got, w)
		}
	}
	if _, ok := args[1].(*string); !ok {
		t.Errorf("arg 1 is %T, want *string (no boxing allocation)", args[1])
	}
}

func TestTouchesReply(t *testing.T) {
	cases := []struct {
		name    string
		reply   any
		sent    int
		n       int
		top     uint64
		wantErr bool
	}{
		{"all touched", []any{int64(3), int64(40)}, 3, 3, 40, false},
		{"none", []any{int64(0), int64(0)}, 3, 0, 0, false},
		{"first two", []any{int64(2), int64(9)}, 5, 2, 9, false},
		{"more than sent", []any{int64(4), int64(40)}, 3, 0, 0, true},
		{"negative", []any{int64(-1), int64(40)}, 3, 0, 0, true},
		{"top below n", []any{int64(3), int64(2)}, 3, 0, 0, true},
		{"old reply of versions", []any{"38", "39", "40"}, 3, 0, 0, true},
		{"strings", []any{"3", "40"}, 3, 0, 0, true},
		{"not an array", "OK", 3, 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, top, err := touchesReply(c.reply, c.sent)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if err == nil && (n != c.n || top != c.top) {
				t.Errorf("got (%d, %d), want (%d, %d)", n, top, c.n, c.top)
			}
		})
	}
}
