package googleadsfake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	actionName = regexp.MustCompile(`^customers/([0-9]+)/conversionActions/([0-9]+)$`)
	// Google's conversionDateTime: "yyyy-mm-dd hh:mm:ss+|-hh:mm" (docs/contracts/ad-platforms.md §3.8).
	dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$`)
	// Click ids are URL-safe base64.
	clickIDRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{6,}$`)
	lowerHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	anyHex64   = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
)

// emptyDigest is sha256(""): what a client that hashes absent values sends.
const emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

const (
	clickMinAge   = 6 * time.Hour
	maxFutureSkew = 10 * time.Minute
)

var (
	clickConversionFields = []string{
		"gclid", "gbraid", "wbraid", "conversionAction", "conversionDateTime", "conversionValue",
		"currencyCode", "orderId", "externalAttributionData", "customVariables", "cartData",
		"userIdentifiers", "conversionEnvironment", "consent", "customerType", "userIpAddress",
		"sessionAttributesEncoded", "sessionAttributesKeyValuePairs",
	}
	userIdentifierFields = []string{"userIdentifierSource", "hashedEmail", "hashedPhoneNumber", "mobileId", "thirdPartyUserId", "addressInfo"}
	consentFields        = []string{"adUserData", "adPersonalization"}
	consentStatus        = []string{"UNSPECIFIED", "UNKNOWN", "GRANTED", "DENIED"}
)

// row is one checked ClickConversion.
type row struct {
	action, actionID      string
	dateTime              string // as sent
	at                    time.Time
	gclid, gbraid, wbraid string
	clickID               string // the one set, for dedup without orderId
	orderID               string
	identifiers           []json.RawMessage
	errs                  []adsErr
}

func (r *row) fail(i int, code ErrorCode, message, field, trigger string, more ...pathElement) {
	path := append([]pathElement{{"conversions", i}}, more...)
	if field != "" {
		path = append(path, pathElement{field, -1})
	}
	r.errs = append(r.errs, adsErr{code: code, message: message, trigger: trigger, path: path})
}

// key is the row's dedup key: the order id per conversion action, else the
// click and conversion time, else nothing to deduplicate on.
func (r row) key(jobID string, i int) string {
	switch {
	case r.orderID != "":
		return "order:" + r.actionID + ":" + r.orderID
	case r.clickID != "":
		return "click:" + r.actionID + ":" + r.clickID + "@" + r.at.UTC().Format(time.RFC3339)
	}
	return "row:" + jobID + ":" + strconv.Itoa(i)
}

// checkRow validates one conversion. Type errors refuse the whole request
// (violation); everything else is a row error for the partial failure.
func (s *Server) checkRow(i int, raw json.RawMessage, now time.Time) (row, *violation) {
	var r row
	o, v := decodeObject(raw, fmt.Sprintf("conversions[%d]", i), clickConversionFields)
	if v != nil {
		return r, v
	}
	strs := map[string]*string{
		"gclid": &r.gclid, "gbraid": &r.gbraid, "wbraid": &r.wbraid,
		"conversionAction": &r.action, "conversionDateTime": &r.dateTime, "orderId": &r.orderID,
	}
	for _, name := range []string{"gclid", "gbraid", "wbraid", "conversionAction", "conversionDateTime", "orderId"} {
		if *strs[name], v = o.str(name); v != nil {
			return r, v
		}
	}
	currency, v := o.str("currencyCode")
	if v != nil {
		return r, v
	}
	if _, v = o.double("conversionValue"); v != nil {
		return r, v
	}
	ids, v := o.array("userIdentifiers")
	if v != nil {
		return r, v
	}
	env, v := o.enum("conversionEnvironment", "ConversionEnvironment", "UNSPECIFIED", "UNKNOWN", "APP", "WEB")
	if v != nil {
		return r, v
	}
	if _, v = o.enum("customerType", "ConversionCustomerType", "UNSPECIFIED", "UNKNOWN", "NEW", "RETURNING"); v != nil {
		return r, v
	}
	ip, v := o.str("userIpAddress")
	if v != nil {
		return r, v
	}
	if _, v = o.str("sessionAttributesEncoded"); v != nil {
		return r, v
	}
	vars, v := o.array("customVariables")
	if v != nil {
		return r, v
	}
	if o.has("consent") {
		c, v := decodeObject(o.fields["consent"], o.at("consent"), consentFields)
		if v != nil {
			return r, v
		}
		for _, f := range consentFields {
			if _, v := c.enum(f, "ConsentStatus", consentStatus...); v != nil {
				return r, v
			}
		}
	}

	// Conversion action: only the action id is validated (G-proto).
	if r.action == "" {
		r.fail(i, ErrorCode{"fieldError", "REQUIRED"}, "The required field was not present.", "conversion_action", "")
	} else if m := actionName.FindStringSubmatch(r.action); m == nil {
		r.fail(i, ErrorCode{"requestError", "RESOURCE_NAME_MALFORMED"}, "Resource name provided is malformed.", "conversion_action", r.action)
	} else if r.actionID = m[2]; !s.opts.actions[r.actionID] {
		r.fail(i, UploadError("NO_CONVERSION_ACTION_FOUND"), "The conversion action specified in the upload request cannot be found. Make sure it's available in this account.", "conversion_action", r.action)
	}

	// Conversion time: a string with an offset, in the recent past.
	switch {
	case !o.has("conversionDateTime"):
		r.fail(i, ErrorCode{"fieldError", "REQUIRED"}, "The required field was not present.", "conversion_date_time", "")
	case !dateTimeRE.MatchString(r.dateTime):
		// Epoch seconds or milliseconds, RFC 3339 with a T or Z: wrong unit
		// or format.
		r.fail(i, ErrorCode{"dateError", "INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET"}, "The string date time's format should be yyyy-mm-dd hh:mm:ss+|-hh:mm.", "conversion_date_time", r.dateTime)
	default:
		at, err := time.Parse("2006-01-02 15:04:05-07:00", r.dateTime)
		switch {
		case err != nil:
			r.fail(i, ErrorCode{"dateError", "INVALID_FIELD_VALUES_IN_DATE_TIME"}, "Given field values do not correspond to a valid date time.", "conversion_date_time", r.dateTime)
		case at.After(now.Add(maxFutureSkew)):
			r.fail(i, ErrorCode{"dateError", "LATER_THAN_MAXIMUM_DATE"}, "Date is after allowed maximum.", "conversion_date_time", r.dateTime)
		case now.Sub(at) > s.opts.clickWindow:
			r.fail(i, UploadError("EXPIRED_EVENT"), "The imported event can't be recorded because its click occurred before this conversion's click-through window. Make sure you import the most recent data.", "conversion_date_time", r.dateTime)
		default:
			r.at = at
		}
	}

	// Click ids: plain, one of them, and timed like Google times clicks.
	set := 0
	for _, c := range []struct{ field, value, unparseable string }{
		{"gclid", r.gclid, "UNPARSEABLE_GCLID"}, {"gbraid", r.gbraid, "UNPARSEABLE_GBRAID"}, {"wbraid", r.wbraid, "UNPARSEABLE_WBRAID"},
	} {
		if c.value == "" {
			continue
		}
		set++
		if r.clickID == "" {
			r.clickID = c.field + ":" + c.value
		}
		switch {
		case anyHex64.MatchString(c.value):
			r.fail(i, UploadError(c.unparseable), "The imported "+c.field+" could not be decoded: it looks like a SHA-256 digest, click ids are sent unhashed.", c.field, c.value)
		case !clickIDRE.MatchString(c.value):
			r.fail(i, UploadError(c.unparseable), "The imported "+c.field+" could not be decoded.", c.field, c.value)
		default:
			s.checkClickTiming(&r, i, c.field, c.value, now)
		}
	}
	switch {
	case r.gbraid != "" && r.wbraid != "":
		r.fail(i, UploadError("GBRAID_WBRAID_BOTH_SET"), "Can't use both gbraid and wbraid parameters. Use only 1 and try again.", "wbraid", "")
	case set > 1:
		r.fail(i, ErrorCode{"fieldError", "VALUE_MUST_BE_UNSET"}, "Set only one of gclid, gbraid and wbraid.", "gclid", "")
	}

	// User identifiers: at most 5, hashed email or phone only, each a
	// lower-case SHA-256 hex digest of something.
	if len(ids) > 5 {
		r.fail(i, ErrorCode{"collectionSizeError", "TOO_MANY"}, "Too many.", "user_identifiers", "")
	}
	for j, rawID := range ids {
		u, v := decodeObject(rawID, fmt.Sprintf("%s.user_identifiers[%d]", o.path, j), userIdentifierFields)
		if v != nil {
			return r, v
		}
		if _, v := u.enum("userIdentifierSource", "UserIdentifierSource", "UNSPECIFIED", "UNKNOWN", "FIRST_PARTY", "THIRD_PARTY"); v != nil {
			return r, v
		}
		at := pathElement{"user_identifiers", j}
		var oneof []string
		for _, f := range []string{"hashedEmail", "hashedPhoneNumber", "mobileId", "thirdPartyUserId", "addressInfo"} {
			if u.has(f) {
				oneof = append(oneof, f)
			}
		}
		switch {
		case len(oneof) > 1:
			return r, &violation{u.path, fmt.Sprintf("Invalid JSON payload received. Oneof field 'identifier' is already set. Cannot set '%s'.", oneof[1])}
		case len(oneof) == 0:
			r.fail(i, UploadError("INVALID_USER_IDENTIFIER"), "User identifier without an identifier.", "", "", at)
			continue
		case oneof[0] != "hashedEmail" && oneof[0] != "hashedPhoneNumber":
			r.fail(i, UploadError("UNSUPPORTED_USER_IDENTIFIER"), "The provided user identifiers are not supported. Use only hashed email or phone number and try again.", snake(oneof[0]), "", at)
			continue
		}
		h, v := u.str(oneof[0])
		if v != nil {
			return r, v
		}
		switch {
		case h == emptyDigest:
			r.fail(i, UploadError("INVALID_USER_IDENTIFIER"), "Make sure you hash user provided data using SHA-256 and ensure you are normalizing according to the guidelines. (The value is the SHA-256 of an empty string.)", snake(oneof[0]), h, at)
		case !lowerHex64.MatchString(h):
			r.fail(i, UploadError("INVALID_USER_IDENTIFIER"), "Make sure you hash user provided data using SHA-256 and ensure you are normalizing according to the guidelines. (Want 64 lower-case hex characters.)", snake(oneof[0]), h, at)
		}
		r.identifiers = append(r.identifiers, rawID)
	}
	if set == 0 && len(ids) == 0 {
		r.fail(i, ErrorCode{"fieldError", "REQUIRED"}, "One of gclid, gbraid, wbraid or user_identifiers is required.", "gclid", "")
	}

	if o.has("currencyCode") && !currencyRE.MatchString(currency) {
		r.fail(i, ErrorCode{"currencyCodeError", "UNSUPPORTED"}, "The currency code is not supported.", "currency_code", currency)
	}
	if o.has("orderId") && strings.Contains(r.orderID, "@") {
		r.fail(i, UploadError("ORDER_ID_CONTAINS_PII"), "Can't import events with order IDs containing personally-identifiable information (PII).", "order_id", r.orderID)
	}
	// Features outside a standard account.
	if env != "" || ip != "" || o.has("sessionAttributesEncoded") || o.has("sessionAttributesKeyValuePairs") {
		r.fail(i, ErrorCode{"notAllowlistedError", "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"}, "Customer is not allowlisted for accessing this feature.", "", "")
	}
	if len(vars) > 0 {
		r.fail(i, UploadError("CUSTOM_VARIABLE_NOT_ENABLED"), "Enable the custom variable in your conversion settings and try again.", "custom_variables", "")
	}
	if o.has("externalAttributionData") {
		r.fail(i, UploadError("EXTERNAL_ATTRIBUTION_DATA_SET_FOR_NON_EXTERNALLY_ATTRIBUTED_CONVERSION_ACTION"), "The imported event includes external attribution data, but the conversion action isn't set up to use an external attribution model.", "external_attribution_data", "")
	}
	return r, nil
}

// checkClickTiming applies Google's click rules to a registered click.
func (s *Server) checkClickTiming(r *row, i int, field, id string, now time.Time) {
	s.mu.Lock()
	click, known := s.clicks[id]
	s.mu.Unlock()
	if !known || r.at.IsZero() {
		return
	}
	switch {
	case r.at.Before(click):
		r.fail(i, UploadError("CONVERSION_PRECEDES_EVENT"), "The imported event has a `conversion_date_time` that precedes the click. Make sure your `conversion_date_time` is correct and try again.", "conversion_date_time", r.dateTime)
	case now.Sub(click) < clickMinAge:
		r.fail(i, UploadError("TOO_RECENT_EVENT"), "The click associated with the given identifier or iOS URL parameter occurred less than 6 hours ago. Retry after 6 hours have passed.", field, id)
	case r.at.Sub(click) > s.opts.clickWindow:
		r.fail(i, UploadError("EXPIRED_EVENT"), "The imported event can't be recorded because its click occurred before this conversion's click-through window. Make sure you import the most recent data.", field, id)
	}
}
