package identity_test

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/identity/identitytest"
)

func TestMemoryConformance(t *testing.T) {
	identitytest.Run(t, func(t *testing.T) identity.Store {
		m := identity.NewMemory()
		t.Cleanup(func() { m.Close() })
		return m
	})
}
