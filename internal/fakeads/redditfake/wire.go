package redditfake

import "encoding/json"

// What the fake decodes, strictly: unknown fields are refused (Reddit
// silently ignores parameters it does not know, which would hide a
// misspelt field from our tests) and pointers tell absent from zero.
// A value of the wrong JSON type fails decoding, and the fake answers that
// the way Reddit does: 403 "JSON error unexpected type …".

type wireBody struct {
	Data *wireData `json:"data"`
}

type wireData struct {
	TestID  *string `json:"test_id"`
	Partner *string `json:"partner"`
	// Events stay raw: each is decoded alone, and echoed in
	// invalid_events as Reddit does.
	Events []json.RawMessage `json:"events"`
}

type wireEvent struct {
	EventAt        *int64        `json:"event_at"`
	ActionSource   *string       `json:"action_source"`
	EventSourceURL *string       `json:"event_source_url"`
	ClickID        *string       `json:"click_id"`
	Type           *wireType     `json:"type"`
	User           *wireUser     `json:"user"`
	Metadata       *wireMetadata `json:"metadata"`
}

type wireType struct {
	TrackingType    *string `json:"tracking_type"`
	CustomEventName *string `json:"custom_event_name"`
}

type wireUser struct {
	Email                 *string    `json:"email"`
	ExternalID            *string    `json:"external_id"`
	PhoneNumber           *string    `json:"phone_number"`
	IPAddress             *string    `json:"ip_address"`
	IDFA                  *string    `json:"idfa"`
	AAID                  *string    `json:"aaid"`
	UserAgent             *string    `json:"user_agent"`
	UUID                  *string    `json:"uuid"`
	DataProcessingOptions *wireDPO   `json:"data_processing_options"`
	ScreenDimensions      *wireShape `json:"screen_dimensions"`
}

type wireDPO struct {
	Modes   []string `json:"modes"`
	Country *string  `json:"country"`
	Region  *string  `json:"region"`
}

type wireShape struct {
	Width  *int64 `json:"width"`
	Height *int64 `json:"height"`
}

type wireMetadata struct {
	ConversionID *string       `json:"conversion_id"`
	Currency     *string       `json:"currency"`
	Value        *float64      `json:"value"`
	ItemCount    *int64        `json:"item_count"`
	Products     []wireProduct `json:"products"`
}

type wireProduct struct {
	ID        *string  `json:"id"`
	Name      *string  `json:"name"`
	Category  *string  `json:"category"`
	ItemPrice *float64 `json:"item_price"`
	Quantity  *int64   `json:"quantity"`
}
