package canonical

import "github.com/google/uuid"

// AppendUUID appends id's lowercase 8-4-4-4-12 text, as uuid.UUID.String
// writes it, without the string String allocates: spool claim keys, Redis
// script arguments and ClickHouse rows all write ids this way.
func AppendUUID(dst []byte, id uuid.UUID) []byte {
	const hexDigits = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}
