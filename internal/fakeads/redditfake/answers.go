package redditfake

import (
	"encoding/json"
	"strconv"
)

// Answer bodies (docs/contracts/ad-platforms.md §6.4). The success body of v3 is unconfirmed (deduced
// from AP parsing data.message); the 400 and 401/403 shapes come from RS's
// mocks. Bodies for cases no source shows (404, 405, oversize) are the
// fake's own, in the same shapes.

type messageAnswer struct {
	Message string `json:"message"`
}

type successBody struct {
	Data messageAnswer `json:"data"`
}

type invalidEvent struct {
	ErrorMessage string          `json:"error_message"`
	Event        json.RawMessage `json:"event"`
}

type invalidAnswer struct {
	Message       string         `json:"message"`
	InvalidEvents []invalidEvent `json:"invalid_events"`
}

type errorDetail struct {
	Reason      string `json:"reason"`
	Explanation string `json:"explanation"`
}

type errorAnswer struct {
	Success bool        `json:"success"`
	Error   errorDetail `json:"error"`
}

func successAnswer(n int) successBody {
	return successBody{Data: messageAnswer{Message: "Successfully processed " + itoa(n) + " conversion events."}}
}

func message(text string) messageAnswer { return messageAnswer{Message: text} }

func unauthorized(explanation string) errorAnswer {
	return errorAnswer{Error: errorDetail{Reason: "UNAUTHORIZED", Explanation: explanation}}
}

func notFound(explanation string) errorAnswer {
	return errorAnswer{Error: errorDetail{Reason: "NOT_FOUND", Explanation: explanation}}
}

func itoa(n int) string { return strconv.Itoa(n) }
