package translate

import "github.com/hogsend/hogsend-proxy/translate/jsontext"

// AppendJSONString appends s as a JSON string literal (see jsontext).
func AppendJSONString(dst []byte, s string) []byte { return jsontext.AppendString(dst, s) }
