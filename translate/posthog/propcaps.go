package posthog

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// The caps on one event's objects (Limits.MaxProperties and
// MaxPropertyBytes): properties, and the $set, $set_once and $unset that
// identity acts on, at the top level or in properties.

// boundedMembers wraps a members callback for the object opening at
// text[obj], named name in errors: past the member count or on a value
// over the size cap it records the error in *capErr (the first one kept)
// and ends the walk at the object's closing brace.
func boundedMembers(text string, obj int, name string, limits Limits, capErr *error, fn func(k string, at int) int) func(k string, at int) int {
	count := 0
	stop := func(err error) int {
		if *capErr == nil {
			*capErr = err
		}
		return containerEnd(text, obj) - 1
	}
	return func(k string, at int) int {
		if count++; count > limits.MaxProperties {
			return stop(tooManyProperties(name, limits))
		}
		end := fn(k, at)
		if end-at > limits.MaxPropertyBytes {
			return stop(propertyTooLarge(name, k, end-at, limits))
		}
		return end
	}
}

// checkPersonObjects applies the caps to the members of the event's $set,
// $set_once and $unset objects (and the elements of an $unset array).
func checkPersonObjects(text string, ev *RawEvent, limits Limits) error {
	f := &ev.Facts
	for _, o := range [...]struct {
		name string
		v    gjson.Result
	}{
		{"$set", ev.Set}, {"$set_once", ev.SetOnce},
		{"properties.$set", f.Set}, {"properties.$set_once", f.SetOnce}, {"properties.$unset", f.Unset},
	} {
		if err := checkObject(text, o.v, o.name, limits); err != nil {
			return err
		}
	}
	return nil
}

// checkObject walks an object's members (or an array's elements) under the
// caps; other values pass.
func checkObject(text string, v gjson.Result, name string, limits Limits) error {
	var capErr error
	switch {
	case v.IsObject():
		members(text, v.Index, boundedMembers(text, v.Index, name, limits, &capErr, func(_ string, at int) int {
			return skipValue(text, at)
		}))
	case v.IsArray():
		count := 0
		elements(text, v.Index, func(at int) int {
			if count++; count > limits.MaxProperties && capErr == nil {
				capErr = tooManyProperties(name, limits)
				return containerEnd(text, v.Index) - 1
			}
			return skipValue(text, at)
		})
	}
	return capErr
}

func tooManyProperties(name string, limits Limits) error {
	return newError(ErrTooManyProperties, "too many properties: "+name+" holds more than "+
		strconv.Itoa(limits.MaxProperties)+" members")
}

func propertyTooLarge(name, key string, size int, limits Limits) error {
	return newError(ErrPropertyTooLarge, "property value too large: "+name+"."+strconv.Quote(shorten(key))+
		" is "+strconv.Itoa(size)+" bytes, over the limit of "+strconv.Itoa(limits.MaxPropertyBytes))
}
