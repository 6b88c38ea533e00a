package identity

import (
	"context"
	"crypto/sha1"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFS embed.FS

// script is a Lua script with lua/lib.lua prepended, addressed by its SHA-1.
type script struct {
	name string
	src  string
	sha  string
}

func mustScript(name string) *script { return mustScriptOf(name, "lib", name) }

// mustScriptOf joins the named files of lua/ into one script.
func mustScriptOf(name string, files ...string) *script {
	var src strings.Builder
	for _, f := range files {
		b, err := luaFS.ReadFile("lua/" + f + ".lua")
		if err != nil {
			panic(err)
		}
		src.Write(b)
		src.WriteByte('\n')
	}
	sum := sha1.Sum([]byte(src.String()))
	return &script{name: name, src: src.String(), sha: hex.EncodeToString(sum[:])}
}

// scriptBySHA is the script of an EVALSHA's sha (one of allScripts).
func scriptBySHA(sha string) *script {
	for _, s := range allScripts {
		if s.sha == sha {
			return s
		}
	}
	panic("identity: EVALSHA of an unknown script " + sha)
}

var (
	scriptResolve        = mustScriptOf("resolve", "touch_check", "touch", "lib", "resolve")
	scriptTouches        = mustScriptOf("touches", "touch_check", "touches")
	scriptFind           = mustScript("find")
	scriptDelete         = mustScript("delete")
	scriptRestoreContact = mustScript("restore_contact")
	scriptRestoreAlias   = mustScript("restore_alias")
	scriptRestoreIndex   = mustScript("restore_index")
	scriptRestoreClaim   = mustScript("restore_claim")
	scriptClaim          = mustScript("claim")

	allScripts = []*script{
		scriptResolve, scriptTouches, scriptFind, scriptDelete,
		scriptRestoreContact, scriptRestoreAlias, scriptRestoreIndex,
		scriptRestoreClaim, scriptClaim,
	}
)

// loadScripts puts every script into the script cache of the server behind
// c, so the first EVALSHA of each does not pay a NOSCRIPT round trip.
func loadScripts(ctx context.Context, c redis.Cmdable) error {
	pipe := c.Pipeline()
	for _, s := range allScripts {
		pipe.ScriptLoad(ctx, s.src)
	}
	cmds, err := pipe.Exec(ctx)
	if err != nil {
		return unavailable("load scripts", err)
	}
	for i, cmd := range cmds {
		if sha := cmd.(*redis.StringCmd).Val(); sha != allScripts[i].sha {
			return fmt.Errorf("load script %s: redis sha %s, want %s", allScripts[i].name, sha, allScripts[i].sha)
		}
	}
	return nil
}

// loadScriptsEverywhere loads the scripts on every master of a cluster (a
// pipeline of keyless commands reaches one node), or on the one server.
func loadScriptsEverywhere(ctx context.Context, c redis.UniversalClient) error {
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			return loadScripts(ctx, m)
		})
	}
	return loadScripts(ctx, c)
}

// run evaluates one script by SHA, loading it on NOSCRIPT (after a restart,
// a failover or SCRIPT FLUSH). keys route the call to their slot's node.
// Only for single calls; Resolve handles its pipeline itself.
func (s *script) run(ctx context.Context, c redis.Scripter, keys []string, args ...any) (any, error) {
	v, err := c.EvalSha(ctx, s.sha, keys, args...).Result()
	if isNoScript(err) {
		v, err = c.Eval(ctx, s.src, keys, args...).Result()
	}
	if err != nil {
		return nil, unavailable(s.name, err)
	}
	return v, nil
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// unavailable wraps a failure to use Redis so that errors.Is(err,
// ErrUnavailable) holds and callers answer 503.
func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
}

// isReplyError reports a Redis error reply, which concerns one command only,
// as opposed to a connection failure, which concerns the whole pipeline.
func isReplyError(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}
