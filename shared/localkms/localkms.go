// Package localkms serves the github.com/nsmithuk/local-kms KMS emulator inside
// the current process, on 127.0.0.1 only, for tests and the dev server.
//
// The emulator's own program listens on every interface and logs each call, so
// it is never run here. Start opens the emulator's LevelDB store in a folder,
// wraps its request handlers in a small dispatcher of ours and serves that on
// a free loopback port. The KMS client code under test is the production code:
// only the endpoint differs.
//
// The shortest path to a working key:
//
//	kmsServer, err := localkms.Start(t.TempDir())
//	if err != nil { t.Fatal(err) }
//	t.Cleanup(func() { kmsServer.Close() })
//	client := kmsServer.Client()
//	keyID, err := kmsServer.CreateKey(ctx, "alias/atlas-test")
//
// # One emulator configuration per process
//
// local-kms keeps its region and account id in package variables (its config
// package), which every handler reads to build ARNs. A process may therefore
// run several Servers at once (each with its own store) only if they share a
// region; Start refuses a second region while a Server with another is open.
package localkms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
)

// AccountID is the AWS account id the emulator puts in every key ARN.
const AccountID = "111122223333"

// DefaultRegion is the region used when Start is given no WithRegion option.
const DefaultRegion = "us-east-1"

// Option changes how Start configures the emulator.
type Option func(*options)

type options struct {
	region string
}

// WithRegion sets the region in the emulator's key ARNs. Use the region of the
// AWS config the clients are built from, so ARNs look like the ones KMS issues.
func WithRegion(region string) Option {
	return func(o *options) { o.region = region }
}

// Server is a running emulator. URL is its base endpoint, http://127.0.0.1:PORT,
// ready for a KMS client's BaseEndpoint.
type Server struct {
	URL    string // http://127.0.0.1:PORT
	Region string // the region in this emulator's key ARNs

	db        *data.Database
	http      *http.Server
	served    chan error
	closeOnce sync.Once
	closeErr  error
}

// shared guards local-kms's package-level configuration.
var shared struct {
	sync.Mutex
	open   int    // Servers started and not yet closed
	region string // region written to config.AWSRegion, when open > 0
}

// Start opens (or creates) the emulator's LevelDB store in dir and serves KMS
// on 127.0.0.1 at a free port. Close the Server to stop it and release dir.
// Two Servers must not share a dir: the store is locked while open.
func Start(dir string, opts ...Option) (*Server, error) {
	o := options{region: DefaultRegion}
	for _, opt := range opts {
		opt(&o)
	}
	if dir == "" {
		return nil, errors.New("localkms: store folder is empty")
	}
	if o.region == "" {
		return nil, errors.New("localkms: region is empty")
	}

	if err := claimConfig(dir, o.region); err != nil {
		return nil, err
	}

	srv, err := serve(dir, o.region)
	if err != nil {
		releaseConfig()
		return nil, err
	}
	return srv, nil
}

func serve(dir, region string) (*Server, error) {
	db, err := openDatabase(dir)
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("localkms: listening: %w", err)
	}

	s := &Server{
		URL:    "http://" + ln.Addr().String(),
		Region: region,
		db:     db,
		served: make(chan error, 1),
	}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

// claimConfig writes local-kms's package configuration for the first open
// Server and checks that later ones agree with it. The variables are written
// only while no Server is serving, so no handler reads them mid-write.
func claimConfig(dir, region string) error {
	shared.Lock()
	defer shared.Unlock()

	if shared.open > 0 && shared.region != region {
		return fmt.Errorf("localkms: a server for region %s is already open", shared.region)
	}
	if shared.open == 0 {
		config.AWSRegion = region
		config.AWSAccountId = AccountID
		config.DatabasePath = dir // read only by local-kms's own program; set for completeness
		shared.region = region
	}
	shared.open++
	return nil
}

func releaseConfig() {
	shared.Lock()
	defer shared.Unlock()
	shared.open--
}

// openDatabase calls data.NewDatabase, which panics when LevelDB cannot open
// the folder (for example while another Server holds its lock), and turns the
// panic into an error.
func openDatabase(dir string) (db *data.Database, err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			db = nil
			err = fmt.Errorf("localkms: opening store in %s: %v", dir, recovered)
		}
	}()
	return data.NewDatabase(dir), nil
}

// Close stops the listener, waits up to five seconds for requests in flight,
// and closes the store. Calling it again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		// A short graceful stop lets requests in flight finish; idle
		// keep-alive connections would hold Shutdown to its deadline, so
		// whatever is left after it is closed outright.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()

		err := s.http.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = s.http.Close()
		}
		if serveErr := <-s.served; !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
		s.db.Close()
		releaseConfig()

		if err != nil {
			s.closeErr = fmt.Errorf("localkms: closing: %w", err)
		}
	})
	return s.closeErr
}
