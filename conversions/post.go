package conversions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxAnswerBytes bounds how much of a platform's answer is read: answers are
// small, and an error page from a proxy must not exhaust memory.
const MaxAnswerBytes = 1 << 20

// Post is one POST of a platform client.
type Post struct {
	Platform string // names the request in error text: "meta", "ga4", …
	URL      string
	Body     []byte
	Header   http.Header
	Timeout  Timeout
	// MaxAnswer bounds the answer read; 0 means MaxAnswerBytes.
	MaxAnswer int64
}

// Answer is a platform's HTTP answer, read up to MaxAnswerBytes. ReadErr is
// set when the body was cut short: the status still holds, and each client
// decides what a partial body means for it.
type Answer struct {
	Status  int
	Header  http.Header
	Body    []byte
	ReadErr error
}

// errBuildRequest marks a request that could not be made (a broken URL):
// no retry can help.
var errBuildRequest = errors.New("build request")

// Send posts p with hc under p.Timeout. An error means no answer came:
// FailedPost turns it into the outcome.
func Send(ctx context.Context, hc *http.Client, p Post) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.Duration())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return Answer{}, fmt.Errorf("%w: %w", errBuildRequest, err)
	}
	for k, v := range p.Header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	limit := p.MaxAnswer
	if limit <= 0 {
		limit = MaxAnswerBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		err = fmt.Errorf("read %s answer: %w", p.Platform, err)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: body, ReadErr: err}, nil
}

// FailedPost is the outcome of a Send that got no answer: Halt for a request
// that cannot be built, a Retry transport failure otherwise.
func FailedPost(platform string, err error) Outcome {
	if errors.Is(err, errBuildRequest) {
		return Outcome{Class: Halt, Reason: "build " + platform + " request: " + ErrorText(err)}
	}
	return TransportFailure(err)
}
