package clickhouse

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// newScanTarget returns a pointer to a fresh value of the column's scan type.
func newScanTarget(t driver.ColumnType) any {
	return reflect.New(t.ScanType()).Interface()
}

// formatScanned renders a scanned value the way ClickHouse's text formats
// show it (unescaped), so Server.Query and Embedded.Query agree on the
// common types. NULL is `\N`.
func formatScanned(p any, dbType string) string {
	switch v := p.(type) {
	case *string:
		return *v
	case *int64:
		return strconv.FormatInt(*v, 10)
	case *uint64:
		return strconv.FormatUint(*v, 10)
	case *uint8:
		return strconv.FormatUint(uint64(*v), 10)
	case *uint32:
		return strconv.FormatUint(uint64(*v), 10)
	}
	rv := reflect.ValueOf(p).Elem()
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nullText
		}
		rv = rv.Elem()
	}
	return formatValue(rv.Interface(), dbType)
}

func formatValue(v any, dbType string) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case time.Time:
		switch {
		case strings.Contains(dbType, "DateTime64"):
			return v.UTC().Format("2006-01-02 15:04:05.000")
		case strings.Contains(dbType, "DateTime"):
			return v.UTC().Format("2006-01-02 15:04:05")
		case strings.Contains(dbType, "Date"):
			return v.UTC().Format("2006-01-02")
		}
		return v.UTC().Format(time.RFC3339Nano)
	case uuid.UUID:
		return v.String()
	case decimal.Decimal:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case bool:
		return strconv.FormatBool(v)
	case []string:
		var b strings.Builder
		b.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(quoteString(s))
		}
		b.WriteByte(']')
		return b.String()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10)
	}
	return fmt.Sprint(v)
}
