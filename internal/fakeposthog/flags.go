package fakeposthog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/tidwall/gjson"
)

// FlagRequest is one /flags or /decide call, as the fake read it.
type FlagRequest struct {
	Path       string
	Version    string // the v query parameter, "" without one
	DistinctID string
	Token      string
	Encoding   string
	Groups     map[string]any
	// PersonProperties as sent, e.g. $device_id from posthog-js.
	PersonProperties map[string]any
	At               time.Time
}

// flagValue is a flag's answer: enabled, and its variant when multivariate.
type flagValue struct {
	enabled bool
	variant string
}

// flagBook holds the project's flags, per-person overrides and who asked.
type flagBook struct {
	mu       sync.Mutex
	order    []string
	global   map[string]flagValue
	person   map[string]map[string]flagValue
	payloads map[string]string
	asked    []FlagRequest
}

// SetFlag sets key for every distinct id: true or false, or a variant
// string (enabled with that variant). Any other value panics.
func (s *Server) SetFlag(key string, value any) {
	v := toFlagValue(key, value)
	s.flags.mu.Lock()
	defer s.flags.mu.Unlock()
	s.flags.define(key)
	s.flags.global[key] = v
}

// SetFlagFor overrides key for one distinct id, as a release condition on
// that person would.
func (s *Server) SetFlagFor(distinctID, key string, value any) {
	v := toFlagValue(key, value)
	s.flags.mu.Lock()
	defer s.flags.mu.Unlock()
	s.flags.define(key)
	if s.flags.person == nil {
		s.flags.person = map[string]map[string]flagValue{}
	}
	if s.flags.person[distinctID] == nil {
		s.flags.person[distinctID] = map[string]flagValue{}
	}
	s.flags.person[distinctID][key] = v
}

// SetFlagPayload attaches a JSON payload to key, answered in
// featureFlagPayloads and the flag's metadata.
func (s *Server) SetFlagPayload(key string, payload any) {
	text, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("fake posthog: flag %q payload: %v", key, err))
	}
	s.flags.mu.Lock()
	defer s.flags.mu.Unlock()
	s.flags.define(key)
	if s.flags.payloads == nil {
		s.flags.payloads = map[string]string{}
	}
	s.flags.payloads[key] = string(text)
}

// FlagRequests returns the flags calls received, oldest first.
func (s *Server) FlagRequests() []FlagRequest {
	s.flags.mu.Lock()
	defer s.flags.mu.Unlock()
	return slices.Clone(s.flags.asked)
}

func toFlagValue(key string, value any) flagValue {
	switch v := value.(type) {
	case bool:
		return flagValue{enabled: v}
	case string:
		if v != "" {
			return flagValue{enabled: true, variant: v}
		}
	}
	panic(fmt.Sprintf("fake posthog: flag %q: value %#v is neither a bool nor a variant", key, value))
}

// define makes key known, in first-set order; global off until set.
func (b *flagBook) define(key string) {
	if b.global == nil {
		b.global = map[string]flagValue{}
	}
	if _, ok := b.global[key]; !ok {
		b.order = append(b.order, key)
		b.global[key] = flagValue{}
	}
}

// flagsAnswer reads a /flags or /decide call as posthog-js and posthog-node
// send it and answers every flag for its distinct id.
func (s *Server) flagsAnswer(r *http.Request, body []byte) answer {
	if rerr := methodIs(r, http.MethodPost); rerr != nil {
		return rerr.answer()
	}
	req, rerr := s.readFlagRequest(r, body)
	if rerr != nil {
		return flagsRefusal(rerr)
	}
	s.flags.mu.Lock()
	s.flags.asked = append(s.flags.asked, req)
	n := len(s.flags.asked)
	out := s.flags.evaluate(req.DistinctID, n)
	s.flags.mu.Unlock()
	text, err := json.Marshal(out)
	if err != nil {
		return textAnswer(http.StatusInternalServerError, fmt.Sprintf("encode flags: %v", err))
	}
	return jsonAnswer(http.StatusOK, text)
}

// readFlagRequest decodes the body (JSON, gzip, or base64 form) and checks
// the token and distinct id.
func (s *Server) readFlagRequest(r *http.Request, body []byte) (FlagRequest, *refusal) {
	req := FlagRequest{Path: r.URL.Path, Version: r.URL.Query().Get("v"), At: s.opts.Now()}
	d, err := decodePayload(r, body)
	if err != nil {
		return req, badRequest("%v", err)
	}
	req.Encoding = d.encoding
	root := gjson.ParseBytes(d.json)
	if !gjson.ValidBytes(d.json) || !root.IsObject() {
		return req, badRequest("flags request body is not a JSON object")
	}
	req.Token = root.Get("token").Str
	if req.Token == "" {
		req.Token = root.Get("api_key").Str
	}
	if req.Token != s.opts.Token {
		return req, unauthorized("project API key invalid")
	}
	req.DistinctID = distinctIDText(root.Get("distinct_id"))
	if req.DistinctID == "" {
		return req, badRequest("missing distinct_id")
	}
	req.Groups = objectOf(root.Get("groups"))
	req.PersonProperties = objectOf(root.Get("person_properties"))
	return req, nil
}

func objectOf(v gjson.Result) map[string]any {
	m, _ := v.Value().(map[string]any)
	return m
}

// flagsRefusal answers as PostHog's flags service: JSON with a type, code
// and detail.
func flagsRefusal(r *refusal) answer {
	kind, code := "validation_error", "invalid_request"
	if r.status == http.StatusUnauthorized {
		kind, code = "authentication_error", "invalid_api_key"
	}
	text, _ := json.Marshal(map[string]any{"type": kind, "code": code, "detail": r.text, "attr": nil})
	return jsonAnswer(r.status, text)
}
