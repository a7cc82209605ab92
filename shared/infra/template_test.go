package infra

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// templatePath is the SAM template, from this package's folder.
const templatePath = "../../template.yaml"

// resource is one entry of the template's Resources. Properties stays a node
// so CloudFormation's short tags (!Ref, !Sub, !If, …) elsewhere in it do not
// get in the way of decoding the parts compared here.
type resource struct {
	Type       string    `yaml:"Type"`
	Properties yaml.Node `yaml:"Properties"`
}

type keyElement struct {
	AttributeName string `yaml:"AttributeName"`
	KeyType       string `yaml:"KeyType"`
}

// templateTable holds the table properties the service's code depends on.
type templateTable struct {
	BillingMode          string `yaml:"BillingMode"`
	AttributeDefinitions []struct {
		AttributeName string `yaml:"AttributeName"`
		AttributeType string `yaml:"AttributeType"`
	} `yaml:"AttributeDefinitions"`
	KeySchema              []keyElement `yaml:"KeySchema"`
	GlobalSecondaryIndexes []struct {
		IndexName  string       `yaml:"IndexName"`
		KeySchema  []keyElement `yaml:"KeySchema"`
		Projection struct {
			ProjectionType string `yaml:"ProjectionType"`
		} `yaml:"Projection"`
	} `yaml:"GlobalSecondaryIndexes"`
	TimeToLiveSpecification struct {
		AttributeName string `yaml:"AttributeName"`
		Enabled       bool   `yaml:"Enabled"`
	} `yaml:"TimeToLiveSpecification"`
	StreamSpecification struct {
		StreamViewType string `yaml:"StreamViewType"`
	} `yaml:"StreamSpecification"`
}

func readTemplate(t *testing.T) map[string]resource {
	t.Helper()
	raw, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatalf("reading the SAM template: %v", err)
	}
	var template struct {
		Resources map[string]resource `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &template); err != nil {
		t.Fatalf("parsing %s: %v", templatePath, err)
	}
	return template.Resources
}

// resourcesOfType returns the logical ids of the resources of type typ.
func resourcesOfType(resources map[string]resource, typ string) []string {
	var ids []string
	for id, r := range resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// onlyResource returns the one resource of type typ, failing on none or more.
func onlyResource(t *testing.T, resources map[string]resource, typ string) (string,
	resource) {
	t.Helper()
	ids := resourcesOfType(resources, typ)
	if len(ids) != 1 {
		t.Fatalf("template has %d resources of type %s (%v), want 1", len(ids), typ, ids)
	}
	return ids[0], resources[ids[0]]
}

func TestTemplateTableMatchesTableInput(t *testing.T) {
	_, res := onlyResource(t, readTemplate(t), "AWS::DynamoDB::Table")
	var got templateTable
	if err := res.Properties.Decode(&got); err != nil {
		t.Fatalf("decoding table properties: %v", err)
	}
	want := TableInput("any")

	if got.BillingMode != string(want.BillingMode) {
		t.Errorf("BillingMode %q, want %q", got.BillingMode, want.BillingMode)
	}

	var gotAttrs, wantAttrs []string
	for _, a := range got.AttributeDefinitions {
		gotAttrs = append(gotAttrs, a.AttributeName+":"+a.AttributeType)
	}
	for _, a := range want.AttributeDefinitions {
		wantAttrs = append(wantAttrs, aws.ToString(a.AttributeName)+":"+string(a.AttributeType))
	}
	slices.Sort(gotAttrs)
	slices.Sort(wantAttrs)
	if !slices.Equal(gotAttrs, wantAttrs) {
		t.Errorf("AttributeDefinitions %v, want %v", gotAttrs, wantAttrs)
	}

	if keys := keyList(want.KeySchema); !slices.Equal(got.KeySchema, keys) {
		t.Errorf("KeySchema %v, want %v", got.KeySchema, keys)
	}

	if len(got.GlobalSecondaryIndexes) != len(want.GlobalSecondaryIndexes) {
		t.Fatalf("%d GSIs, want %d", len(got.GlobalSecondaryIndexes),
			len(want.GlobalSecondaryIndexes))
	}
	for i, w := range want.GlobalSecondaryIndexes {
		g := got.GlobalSecondaryIndexes[i]
		if g.IndexName != aws.ToString(w.IndexName) ||
			!slices.Equal(g.KeySchema, keyList(w.KeySchema)) ||
			g.Projection.ProjectionType != string(w.Projection.ProjectionType) {
			t.Errorf("GSI %+v, want %s on %v projecting %s", g, aws.ToString(w.IndexName),
				keyList(w.KeySchema), w.Projection.ProjectionType)
		}
	}

	if v := got.StreamSpecification.StreamViewType; v !=
		string(want.StreamSpecification.StreamViewType) {
		t.Errorf("StreamViewType %q, want %q", v, want.StreamSpecification.StreamViewType)
	}

	ttl := TTLInput("any").TimeToLiveSpecification
	if got.TimeToLiveSpecification.AttributeName != aws.ToString(ttl.AttributeName) ||
		!got.TimeToLiveSpecification.Enabled {
		t.Errorf("TimeToLiveSpecification %+v, want %s enabled", got.TimeToLiveSpecification,
			aws.ToString(ttl.AttributeName))
	}
}

func keyList(schema []types.KeySchemaElement) []keyElement {
	var keys []keyElement
	for _, k := range schema {
		keys = append(keys, keyElement{aws.ToString(k.AttributeName), string(k.KeyType)})
	}
	return keys
}

func TestTemplateKeyMatchesKeyInput(t *testing.T) {
	resources := readTemplate(t)
	keyID, res := onlyResource(t, resources, "AWS::KMS::Key")
	var key struct {
		KeySpec  string `yaml:"KeySpec"`
		KeyUsage string `yaml:"KeyUsage"`
	}
	if err := res.Properties.Decode(&key); err != nil {
		t.Fatalf("decoding key properties: %v", err)
	}
	want := KeyInput()
	// CloudFormation's defaults are the symmetric encrypt/decrypt key.
	if key.KeySpec != "" && key.KeySpec != string(want.KeySpec) {
		t.Errorf("KeySpec %q, want %q", key.KeySpec, want.KeySpec)
	}
	if key.KeyUsage != "" && key.KeyUsage != string(want.KeyUsage) {
		t.Errorf("KeyUsage %q, want %q", key.KeyUsage, want.KeyUsage)
	}

	_, alias := onlyResource(t, resources, "AWS::KMS::Alias")
	var target struct {
		AliasName   yaml.Node `yaml:"AliasName"`
		TargetKeyID yaml.Node `yaml:"TargetKeyId"`
	}
	if err := alias.Properties.Decode(&target); err != nil {
		t.Fatalf("decoding alias properties: %v", err)
	}
	if !strings.HasPrefix(target.AliasName.Value, "alias/") {
		t.Errorf("AliasName %q does not start with alias/", target.AliasName.Value)
	}
	if !refersTo(target.TargetKeyID, keyID) {
		t.Errorf("alias targets %s %q, want a !Ref or !GetAtt of %s",
			target.TargetKeyID.Tag, target.TargetKeyID.Value, keyID)
	}
}

// refersTo reports whether node is !Ref id or !GetAtt id.Something.
func refersTo(node yaml.Node, id string) bool {
	switch node.Tag {
	case "!Ref":
		return node.Value == id
	case "!GetAtt":
		return strings.HasPrefix(node.Value, id+".")
	}
	return false
}

func TestTemplateHasEventBus(t *testing.T) {
	if ids := resourcesOfType(readTemplate(t), "AWS::Events::EventBus"); len(ids) != 1 {
		t.Errorf("template has event buses %v, want one", ids)
	}
}
