package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

const keysUsage = `usage: hogsend-proxy keys create --name N --scopes ingest[,read,…] [--expires 720h] [--publishable-origins https://app.example]
       hogsend-proxy keys list
       hogsend-proxy keys revoke <id|prefix>`

func runKeys(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return runKeysCreate(args[1:])
		case "list":
			return runKeysList(args[1:])
		case "revoke":
			return runKeysRevoke(args[1:])
		}
	}
	return errors.New(keysUsage)
}

func runKeysCreate(args []string) error {
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	name := fs.String("name", "", "a name for the key (1-100 characters)")
	scopes := fs.String("scopes", "ingest", "comma-separated scopes: ingest, read, journey-admin, full-admin, accounts, referrals")
	expires := fs.Duration("expires", 0, "lifetime of the key; 0 = never expires")
	origins := fs.String("publishable-origins", "", "comma-separated origins: mint a publishable pk_ browser key for them instead of a secret key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || len(*name) > 100 {
		return errors.New("keys create: --name must be 1 to 100 characters")
	}
	list, err := parseScopes(*scopes)
	if err != nil {
		return err
	}
	var allowed []string
	if *origins != "" {
		if allowed, err = parseOrigins(*origins); err != nil {
			return err
		}
		// A publishable key is a browser key: ingest-public only.
		list = []string{"ingest-public"}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	now := time.Now()
	var expiresAt int64
	if *expires > 0 {
		expiresAt = now.Add(*expires).UnixMilli()
	}
	key, rec, err := apikeys.Mint(*name, list, expiresAt, now.UnixMilli(), allowed)
	if err != nil {
		return err
	}
	ctx := context.Background()
	book, err := openKeyBook(ctx, &cfg)
	if err != nil {
		return err
	}
	defer book.Close()
	if err := book.Put(ctx, rec); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "created key %q (id %s, %s) with scopes %s; it is shown once:\n", rec.Name, apikeys.ID(&rec), rec.Prefix, strings.Join(rec.Scopes, ","))
	fmt.Println(key)
	return nil
}

func parseScopes(s string) ([]string, error) {
	var list []string
	for _, sc := range strings.Split(s, ",") {
		sc = strings.TrimSpace(sc)
		if sc == "" {
			continue
		}
		if !apikeys.IsSecretScope(sc) {
			return nil, fmt.Errorf("keys create: unknown scope %q", sc)
		}
		list = append(list, sc)
	}
	if len(list) == 0 {
		return nil, errors.New("keys create: --scopes must name at least one scope")
	}
	return list, nil
}

// parseOrigins splits --publishable-origins and checks each origin as
// POST /v1/admin/api-keys does.
func parseOrigins(s string) ([]string, error) {
	var allowed []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			allowed = append(allowed, o)
		}
	}
	if err := apikeys.CheckOrigins(allowed); err != nil {
		return nil, fmt.Errorf("keys create: --publishable-origins: %w", err)
	}
	if len(allowed) == 0 {
		return nil, errors.New("keys create: --publishable-origins must name at least one origin")
	}
	return allowed, nil
}

func runKeysList(args []string) error {
	if len(args) != 0 {
		return errors.New(keysUsage)
	}
	ctx := context.Background()
	book, keys, err := openStoredKeys(ctx)
	if err != nil {
		return err
	}
	defer book.Close()
	apikeys.Sort(keys)
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPREFIX\tNAME\tSCOPES\tCREATED\tEXPIRES\tREVOKED")
	for _, k := range keys {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", apikeys.ID(&k), k.Prefix, k.Name,
			strings.Join(k.Scopes, ","), isoOrDash(k.CreatedAt), isoOrDash(k.ExpiresAt), isoOrDash(k.RevokedAt))
	}
	return w.Flush()
}

func runKeysRevoke(args []string) error {
	if len(args) != 1 || args[0] == "" {
		return errors.New(keysUsage)
	}
	ctx := context.Background()
	book, keys, err := openStoredKeys(ctx)
	if err != nil {
		return err
	}
	defer book.Close()
	k, err := apikeys.Find(keys, args[0])
	if err != nil {
		return fmt.Errorf("keys revoke: %w", err)
	}
	// A key revoked before is written again: the earlier write may not have
	// reached every place.
	apikeys.Revoke(&k, time.Now().UnixMilli())
	if err := book.Put(ctx, k); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "revoked key %q (id %s, %s) at %s; running instances refuse it within 60 s\n",
		k.Name, apikeys.ID(&k), k.Prefix, isoOrDash(k.RevokedAt))
	return nil
}

// openStoredKeys opens the configured key book and lists its keys; the
// caller closes the book.
func openStoredKeys(ctx context.Context) (keyBook, []canonical.APIKey, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, nil, err
	}
	book, err := openKeyBook(ctx, &cfg)
	if err != nil {
		return nil, nil, err
	}
	keys, err := book.List(ctx)
	if err != nil {
		book.Close()
		return nil, nil, err
	}
	return book, keys, nil
}

// isoOrDash shows Unix ms as an ISO time, 0 as "-".
func isoOrDash(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}
