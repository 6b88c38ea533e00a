//go:build !(linux && (amd64 || arm64))

package clickhouse

// Elsewhere the handlers are left as libchdb sets them.

type signalHandlers struct{}

func saveSignalHandlers() *signalHandlers { return nil }

func restoreSignalHandlers(*signalHandlers) {}
