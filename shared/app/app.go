// Package app wires the service together: configuration from the
// environment, AWS clients, the store, envelope encryption, the sandbox
// networks, the token service and the HTTP handlers. Every function's main
// and the dev server build the same App, so one code path serves Lambda,
// tests and local use.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/httpapi"
	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/relay"
	"github.com/atlas-network-tokens/atlas/shared/store"
	"github.com/atlas-network-tokens/atlas/shared/tokens"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

// Stages. The sandbox stage serves the simulated card networks; live has no
// network adapters yet and refuses to provision.
const (
	StageSandbox = "sandbox"
	StageLive    = "live"
)

// Config is what a function reads from its environment.
type Config struct {
	Table    string // ATLAS_TABLE_NAME
	KeyID    string // ATLAS_KMS_KEY_ID: key id, ARN or alias
	EventBus string // ATLAS_EVENT_BUS_NAME
	Stage    string // ATLAS_STAGE: sandbox or live
	LogLevel string // ATLAS_LOG_LEVEL
}

// ConfigFromEnv reads Config, with the defaults the bootstrap command uses.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Table:    envOr("ATLAS_TABLE_NAME", infra.DefaultTable),
		KeyID:    envOr("ATLAS_KMS_KEY_ID", infra.DefaultKeyAlias),
		EventBus: envOr("ATLAS_EVENT_BUS_NAME", infra.DefaultEventBus),
		Stage:    envOr("ATLAS_STAGE", StageSandbox),
		LogLevel: os.Getenv("ATLAS_LOG_LEVEL"),
	}
	if c.Stage != StageSandbox && c.Stage != StageLive {
		return Config{}, fmt.Errorf("ATLAS_STAGE must be %q or %q, not %q", StageSandbox, StageLive, c.Stage)
	}
	return c, nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// Backends are the AWS services, or stand-ins that speak their protocols.
type Backends struct {
	DynamoDB  store.DynamoDB
	KMS       envelope.KMS
	Publisher publish.Publisher
}

// App is the wired service.
type App struct {
	Config   Config
	Log      *slog.Logger
	Store    *store.Store
	Service  *tokens.Service
	Handlers *httpapi.Handlers
	Relay    *relay.Relay
	// Webhooks keeps merchants' webhook endpoints; Dispatcher delivers
	// events to them (the dispatcher function's job).
	Webhooks   *webhook.Registry
	Dispatcher *webhook.Dispatcher
}

// Options tune New for tests and the dev server.
type Options struct {
	Now    func() time.Time // the clock; nil means time.Now
	Queued func()           // called when events were queued; may be nil
	// LocalWebhooks, when not nil, delivers every event in process after
	// Backends.Publisher took it, to the merchants' endpoints and to its
	// Extra targets, as the EventBridge rule and dispatcher function do in
	// AWS; in the sandbox stage it also admits endpoints on loopback hosts.
	// Empty Directory, Client and Log are filled in.
	LocalWebhooks *webhook.DispatcherConfig
}

// New wires an App on the given backends.
func New(cfg Config, b Backends, log *slog.Logger, opts Options) *App {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	st := store.New(b.DynamoDB, cfg.Table, now)
	sealer := envelope.New(b.KMS, cfg.KeyID)
	var nets tokens.Networks = liveNetworks{}
	if cfg.Stage == StageSandbox {
		nets = networks.NewSandbox(st.SandboxState(sealer), now)
	}
	svc := tokens.New(tokens.Config{
		Store: st, Sealer: sealer, Networks: nets, Now: now, Queued: opts.Queued,
	})
	policy := webhook.Policy{AllowLoopback: opts.LocalWebhooks != nil && cfg.Stage == StageSandbox}
	hooks := webhook.NewRegistry(st, sealer, policy, now)
	dispatcher, pub := webhookDelivery(hooks, policy, b.Publisher, log, opts.LocalWebhooks)
	return &App{
		Config:     cfg,
		Log:        log,
		Store:      st,
		Service:    svc,
		Handlers:   httpapi.New(svc, log).WithWebhooks(hooks),
		Relay:      relay.New(st, pub, log),
		Webhooks:   hooks,
		Dispatcher: dispatcher,
	}
}

// webhookDelivery builds the dispatcher and the publisher the relay uses:
// next alone, or next followed by in-process delivery when local is set.
func webhookDelivery(reg *webhook.Registry, policy webhook.Policy, next publish.Publisher,
	log *slog.Logger, local *webhook.DispatcherConfig) (*webhook.Dispatcher, publish.Publisher) {
	var dc webhook.DispatcherConfig
	if local != nil {
		dc = *local
	}
	if dc.Directory == nil {
		dc.Directory = reg
	}
	if dc.Client == nil {
		dc.Client = webhook.NewClient(policy)
	}
	if dc.Log == nil {
		dc.Log = log
	}
	d := webhook.NewDispatcher(dc)
	if local == nil {
		return d, next
	}
	return d, webhook.NewPublisher(d, next, log)
}

// liveNetworks stands where real scheme adapters will: until they exist, the
// live stage cannot provision and says so instead of pretending.
type liveNetworks struct{}

func (liveNetworks) Provider(networks.Network) (networks.Provider, error) {
	return nil, fault.New(fault.ErrUnavailable, "network_unavailable",
		"Live card-network connections are not configured for this deployment.")
}

// FromEnv builds the App for a Lambda function: Config from the
// environment, clients from the standard AWS configuration (which honours
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>).
func FromEnv(ctx context.Context) (*App, error) {
	cfg, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stderr, cfg.LogLevel)
	// The Lambda runtime logs a handler's returned error through the
	// standard log package; as the default, our JSON handler writes it.
	slog.SetDefault(log)
	b, err := AWSBackends(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	return New(cfg, b, log, Options{}), nil
}

// AWSBackends builds the real clients from the standard AWS configuration.
func AWSBackends(ctx context.Context, cfg Config, log *slog.Logger) (Backends, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(logging.SDK(log)))
	if err != nil {
		return Backends{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	bus, err := publish.NewEventBridge(eventbridge.NewFromConfig(awsCfg), cfg.EventBus)
	if err != nil {
		return Backends{}, err
	}
	return Backends{
		DynamoDB:  dynamodb.NewFromConfig(awsCfg),
		KMS:       kms.NewFromConfig(awsCfg),
		Publisher: bus,
	}, nil
}
