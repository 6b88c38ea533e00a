package posthog

// Defaults of Limits, matching the configuration's (config.Config).
const (
	// DefaultMaxDecoded is the most bytes any decoding stage may produce.
	DefaultMaxDecoded = 32 << 20
	// DefaultMaxDecodeRatio bounds decoded bytes per byte received.
	DefaultMaxDecodeRatio = 100
	// DecodeRatioFloor is the output below which the ratio is not applied,
	// so that small, well-compressed bodies are never refused.
	DecodeRatioFloor = 64 << 10
	// DefaultMaxEvents is the most events one request may hold.
	DefaultMaxEvents = 10000
	// DefaultMaxEventBytes is the largest event kept: PostHog drops events
	// over its 1 MB Kafka message limit.
	DefaultMaxEventBytes = 1_000_000
	// DefaultMaxProperties bounds the members of properties, $set,
	// $set_once and $unset.
	DefaultMaxProperties = 10000
	// DefaultMaxPropertyBytes bounds one property value's JSON text.
	DefaultMaxPropertyBytes = 256 << 10
)

// Limits bounds the work DecodeRequest and ParsePayload do for one request.
// Zero or negative fields take the defaults above.
type Limits struct {
	// MaxDecoded is the largest output, in bytes, of every decoding stage
	// (form, base64, gzip, lz64); a stream is stopped as soon as its output
	// passes it (ErrTooLarge).
	MaxDecoded int
	// MaxDecodeRatio bounds every stage's output to this many times the
	// bytes received, once the output passes DecodeRatioFloor
	// (ErrDecodeRatio).
	MaxDecodeRatio int
	// MaxEvents is the most events a request may hold (ErrTooManyEvents).
	MaxEvents int
	// MaxEventBytes is the largest event, in bytes of JSON text: a larger
	// event is dropped, and a request of nothing else refused
	// (ErrEventTooLarge).
	MaxEventBytes int
	// MaxProperties bounds the members of an event's properties and of its
	// $set, $set_once and $unset (ErrTooManyProperties).
	MaxProperties int
	// MaxPropertyBytes bounds the JSON text of one member of those objects
	// (ErrPropertyTooLarge).
	MaxPropertyBytes int
	// Budget, when set, is charged for decoded output as it is produced and
	// for the parsed events' slice before it is allocated; its refusal is
	// an ErrOverloaded error wrapping the budget's.
	Budget Budget
}

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	orDefault := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	orDefault(&l.MaxDecoded, DefaultMaxDecoded)
	orDefault(&l.MaxDecodeRatio, DefaultMaxDecodeRatio)
	orDefault(&l.MaxEvents, DefaultMaxEvents)
	orDefault(&l.MaxEventBytes, DefaultMaxEventBytes)
	orDefault(&l.MaxProperties, DefaultMaxProperties)
	orDefault(&l.MaxPropertyBytes, DefaultMaxPropertyBytes)
	return l
}
