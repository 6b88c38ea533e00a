package backoff

import (
	"errors"

	"github.com/valyala/fasthttp"
)

// DropDeadConns closes a client's pooled connections after one was found
// closed by the other end: after it restarts every pooled connection is
// dead, and fasthttp does not retry a POST on the next one, so each would
// cost a failed attempt until the idle timeout.
func DropDeadConns(hc *fasthttp.HostClient, err error) {
	if errors.Is(err, fasthttp.ErrConnectionClosed) {
		hc.CloseIdleConnections()
	}
}
