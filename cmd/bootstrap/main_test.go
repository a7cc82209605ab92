package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/infra/mototest"
	"github.com/atlas-network-tokens/atlas/shared/localkms"
)

func TestParseOptions(t *testing.T) {
	env := map[string]string{
		"ATLAS_TABLE_NAME":     "env-table",
		"ATLAS_KMS_KEY_ID":     "alias/env-key",
		"ATLAS_EVENT_BUS_NAME": "env-bus",
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    infra.Names
		queue   bool
		wantErr string
	}{
		{name: "defaults", want: infra.Names{Table: infra.DefaultTable,
			KeyAlias: infra.DefaultKeyAlias, EventBus: infra.DefaultEventBus}},
		{name: "env", env: env,
			want: infra.Names{Table: "env-table", KeyAlias: "alias/env-key", EventBus: "env-bus"}},
		{name: "flags beat env", env: env,
			args: []string{"-table", "t", "-key-alias", "alias/k", "-event-bus", "b",
				"-test-queue", "-test-queue-name", "q"},
			want:  infra.Names{Table: "t", KeyAlias: "alias/k", EventBus: "b", TestQueue: "q"},
			queue: true},
		{name: "default queue name", args: []string{"-test-queue"}, queue: true,
			want: infra.Names{Table: infra.DefaultTable, KeyAlias: infra.DefaultKeyAlias,
				EventBus: infra.DefaultEventBus, TestQueue: infra.DefaultTestQueue}},
		{name: "key ARN, not alias",
			env:     map[string]string{"ATLAS_KMS_KEY_ID": "arn:aws:kms:us-east-1:1:key/x"},
			wantErr: `named by an alias (alias/…), not "arn:aws:kms`},
		{name: "empty table", args: []string{"-table="}, wantErr: "must not be empty"},
		{name: "unknown flag", args: []string{"-tabel", "x"}, wantErr: "usage"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			o, err := parseOptions(tt.args, getenv, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.names != tt.want || o.testQueue != tt.queue {
				t.Errorf("got %+v queue %v, want %+v queue %v", o.names, o.testQueue, tt.want,
					tt.queue)
			}
		})
	}

	if _, err := parseOptions([]string{"-h"}, func(string) string { return "" },
		io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: error = %v, want flag.ErrHelp", err)
	}
}

func TestWriteEnv(t *testing.T) {
	var out bytes.Buffer
	err := writeEnv(&out, envLines(infra.Result{
		Table:        "atlas",
		KeyAlias:     "alias/atlas",
		KeyARN:       "arn:aws:kms:us-east-1:111122223333:key/abc-123",
		TestQueueURL: "http://127.0.0.1:5000/111122223333/q",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := "ATLAS_TABLE_NAME=atlas\nATLAS_KMS_KEY_ID=alias/atlas\n" +
		"ATLAS_KMS_KEY_ARN=arn:aws:kms:us-east-1:111122223333:key/abc-123\n" +
		"ATLAS_TEST_QUEUE_URL=http://127.0.0.1:5000/111122223333/q\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}

	for _, bad := range []string{"a b", "$(rm)", "x\ny", `"q"`, "a;b"} {
		if err := writeEnv(io.Discard, [][2]string{{"K", bad}}); err == nil {
			t.Errorf("value %q accepted", bad)
		}
	}
}

// The command against moto and local-kms: the second run finds everything
// the first made and prints the same lines.
func TestRunTwice(t *testing.T) {
	mototest.URL(t)
	kmsServer, err := localkms.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kmsServer.Close() })
	t.Setenv("AWS_ENDPOINT_URL_KMS", kmsServer.URL)
	mototest.Config(t) // sets the endpoint, region and credentials for run

	env := map[string]string{
		"ATLAS_TABLE_NAME":      mototest.Name("atlas-table"),
		"ATLAS_KMS_KEY_ID":      "alias/" + mototest.Name("atlas-key"),
		"ATLAS_EVENT_BUS_NAME":  mototest.Name("atlas-bus"),
		"ATLAS_TEST_QUEUE_NAME": mototest.Name("atlas-queue"),
	}
	getenv := func(k string) string { return env[k] }

	var first, second, log bytes.Buffer
	if err := run(context.Background(), []string{"-test-queue"}, getenv, &first,
		&log); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if err := run(context.Background(), []string{"-test-queue"}, getenv, &second,
		&log); err != nil {
		t.Fatalf("second run: %v", err)
	}

	if first.String() != second.String() {
		t.Errorf("first run printed\n%s\nsecond\n%s", first.String(), second.String())
	}
	for _, want := range []string{"ATLAS_TABLE_NAME=" + env["ATLAS_TABLE_NAME"] + "\n",
		"ATLAS_KMS_KEY_ID=" + env["ATLAS_KMS_KEY_ID"] + "\n", "ATLAS_KMS_KEY_ARN=arn:aws:kms:",
		"ATLAS_EVENT_BUS_ARN=arn:aws:events:", "ATLAS_TEST_QUEUE_URL=http://127.0.0.1:"} {
		if !strings.Contains(first.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, first.String())
		}
	}
	wantLog := "bootstrap: created table, time to live, key, alias, event bus, test queue, " +
		"test rule, test rule target, test queue policy\n" +
		"bootstrap: everything already existed; nothing changed\n"
	if log.String() != wantLog {
		t.Errorf("stderr\n%s\nwant\n%s", log.String(), wantLog)
	}
}
