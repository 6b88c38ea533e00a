package main

import (
	"context"
	"fmt"

	"github.com/hogsend/hogsend-proxy/internal/app"
)

func runMigrate(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("migrate takes no arguments, got %q", args)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx := context.Background()
	backend, err := app.OpenMigrated(ctx, &cfg)
	if err != nil {
		return err
	}
	defer backend.Close()
	fmt.Println("migrations applied")
	return nil
}
