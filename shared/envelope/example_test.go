package envelope_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/localkms"
)

// A card number sealed for one token record opens for that record only.
func Example() {
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "localkms")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	kmsServer, err := localkms.Start(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer kmsServer.Close()
	if _, err := kmsServer.CreateKey(ctx, "alias/atlas-data"); err != nil {
		log.Fatal(err)
	}

	sealer := envelope.New(kmsServer.Client(), "alias/atlas-data")
	owner := envelope.Context{Merchant: "mer_123", Record: "tok_abc", Purpose: "pan"}

	sealed, err := sealer.Seal(ctx, []byte("4111111111111111"), owner)
	if err != nil {
		log.Fatal(err)
	}

	pan, err := sealer.Open(ctx, sealed, owner)
	fmt.Println(string(pan[len(pan)-4:]), err)

	elsewhere := envelope.Context{Merchant: "mer_123", Record: "tok_other", Purpose: "pan"}
	_, err = sealer.Open(ctx, sealed, elsewhere)
	fmt.Println(errors.Is(err, envelope.ErrOpen))
	// Output:
	// 1111 <nil>
	// true
}
