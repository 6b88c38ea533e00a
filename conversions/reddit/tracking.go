package reddit

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// v3 tracking types (docs/contracts/ad-platforms.md §6.2).
const (
	TypePageVisit     = "PAGE_VISIT"
	TypeViewContent   = "VIEW_CONTENT"
	TypeSearch        = "SEARCH"
	TypeAddToCart     = "ADD_TO_CART"
	TypeAddToWishlist = "ADD_TO_WISHLIST"
	TypePurchase      = "PURCHASE"
	TypeLead          = "LEAD"
	TypeSignUp        = "SIGN_UP"
	TypeCustom        = "CUSTOM"
)

// maxCustomEventName is Reddit's limit for custom_event_name.
const maxCustomEventName = 64

// standardType maps a rule's event name, folded to upper-case letters only,
// to the v3 enum: rules may carry the v3 name ("ADD_TO_CART"), the v2 name
// ("AddToCart") or a spaced one ("Add to cart").
func standardType(folded string) (string, bool) {
	switch folded {
	case "PAGEVISIT":
		return TypePageVisit, true
	case "VIEWCONTENT":
		return TypeViewContent, true
	case "SEARCH":
		return TypeSearch, true
	case "ADDTOCART":
		return TypeAddToCart, true
	case "ADDTOWISHLIST":
		return TypeAddToWishlist, true
	case "PURCHASE":
		return TypePurchase, true
	case "LEAD":
		return TypeLead, true
	case "SIGNUP":
		return TypeSignUp, true
	}
	return "", false
}

// takesValue reports whether a type accepts value and currency (Reddit's
// event-metadata matrix, docs/contracts/ad-platforms.md §6.1; RS and AP agree). Sending them on another
// type gets the event refused.
func takesValue(trackingType string) bool {
	switch trackingType {
	case TypePurchase, TypeAddToCart, TypeAddToWishlist, TypeLead, TypeSignUp, TypeCustom:
		return true
	}
	return false
}

// eventType is the wire "type" object.
type eventType struct {
	TrackingType    string `json:"tracking_type"`
	CustomEventName string `json:"custom_event_name,omitempty"`
}

// trackingType maps a conversion's platform event name: a standard name
// becomes its enum value, anything else a CUSTOM event carrying the name.
func trackingType(name string) (eventType, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return eventType{}, fmt.Errorf("event_name: required")
	}
	folded := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z':
			return r
		}
		return -1
	}, name)
	if t, ok := standardType(folded); ok {
		return eventType{TrackingType: t}, nil
	}
	if folded == TypeCustom {
		return eventType{}, fmt.Errorf("event_name: %q needs the custom event's own name instead", name)
	}
	if n := utf8.RuneCountInString(name); n > maxCustomEventName {
		return eventType{}, fmt.Errorf("event_name: custom event name is %d characters, reddit allows %d", n, maxCustomEventName)
	}
	return eventType{TrackingType: TypeCustom, CustomEventName: name}, nil
}
