package workshop

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeAssembly writes a cloud assembly with an entry template, a nested template, a directory
// asset and a file asset, the way the CDK lays them out; files overrides the manifest's files.
func fakeAssembly(t *testing.T, files map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Lab.template.json", `{"Parameters":{"AssetsBucketName":{"Type":"String"},"AssetsBucketPrefix":{"Type":"String","Default":""},
		"ServerCode":{"Type":"String","Default":"basic","AllowedValues":["basic","healthcheck"]}},
		"Resources":{"N":{"Type":"AWS::CloudFormation::Stack","Properties":{"TemplateURL":{"Fn::Sub":"${AssetsBucketPrefix}n1.json"}}}}}`)
	write("LabNested.nested.template.json", `{"Resources":{"F":{"Properties":{"Code":{"S3Key":{"Fn::Sub":"${AssetsBucketPrefix}f1.zip"}}}}}}`)
	write("asset.f1/index.js", "exports.handler = 1\n")
	write("asset.f1/lib/util.js", "module.exports = 2\n")
	write("asset.b1/server", "\x7fELF binary")
	dest := func(key string) map[string]any {
		return map[string]any{"current_account-current_region": map[string]any{"bucketName": "${AssetsBucketName}", "objectKey": key}}
	}
	if files == nil {
		files = map[string]any{
			"entry": map[string]any{"source": map[string]any{"path": "Lab.template.json", "packaging": "file"}, "destinations": dest("${AssetsBucketPrefix}entry.json")},
			"n1":    map[string]any{"source": map[string]any{"path": "LabNested.nested.template.json", "packaging": "file"}, "destinations": dest("${AssetsBucketPrefix}n1.json")},
			"f1":    map[string]any{"source": map[string]any{"path": "asset.f1", "packaging": "zip"}, "destinations": dest("${AssetsBucketPrefix}f1.zip")},
			"b1":    map[string]any{"source": map[string]any{"path": "asset.b1/server", "packaging": "file"}, "destinations": dest("${AssetsBucketPrefix}b1")},
		}
	}
	m, err := json.Marshal(map[string]any{"version": "1", "files": files})
	if err != nil {
		t.Fatal(err)
	}
	write("Lab.assets.json", string(m))
	return dir
}

func TestWriteLaysOutThePackage(t *testing.T) {
	asm := fakeAssembly(t, nil)
	out := filepath.Join(t.TempDir(), "pkg")
	p, err := Write(asm, "Lab", out)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b1", "f1.zip", "n1.json"}; !reflect.DeepEqual(p.Assets, want) {
		t.Errorf("assets %v, want %v (the entry template goes to static/, not to the bucket)", p.Assets, want)
	}
	if p.EntryTemplate != "static/Lab.template.json" {
		t.Errorf("entry template %s", p.EntryTemplate)
	}
	for _, f := range []string{"static/Lab.template.json", "assets/n1.json", "assets/b1", "contentspec.yaml", "README.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// The directory asset is a zip of its files, relative to it, in name order.
	zr, err := zip.OpenReader(filepath.Join(out, "assets", "f1.zip"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if want := []string{"index.js", "lib/util.js"}; !reflect.DeepEqual(names, want) {
		t.Errorf("zip entries %v, want %v", names, want)
	}
	// Packaging twice gives the same bytes (a re-upload changes nothing).
	first, _ := os.ReadFile(filepath.Join(out, "assets", "f1.zip"))
	if _, err := Write(asm, "Lab", out); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(out, "assets", "f1.zip"))
	if !bytes.Equal(first, second) {
		t.Error("the zip differs between two runs")
	}
	spec, _ := os.ReadFile(filepath.Join(out, "contentspec.yaml"))
	for _, want := range []string{"templateLocation: static/Lab.template.json", `defaultValue: "{{.AssetsBucketName}}"`, `templateParameter: ServerCode
          defaultValue: "basic"`} {
		if !strings.Contains(string(spec), want) {
			t.Errorf("contentspec.yaml lacks %q:\n%s", want, spec)
		}
	}
}

func TestWriteRejectsWhatCloudFormationAloneCannotDeploy(t *testing.T) {
	dest := func(key string) map[string]any {
		return map[string]any{"d": map[string]any{"objectKey": key}}
	}
	for name, files := range map[string]map[string]any{
		"bootstrap bucket key": {"x": map[string]any{"source": map[string]any{"path": "asset.b1/server", "packaging": "file"}, "destinations": dest("abc.zip")}},
		"no destination":       {"x": map[string]any{"source": map[string]any{"path": "asset.b1/server", "packaging": "file"}}},
		"missing source":       {"x": map[string]any{"source": map[string]any{"path": "asset.gone", "packaging": "zip"}, "destinations": dest("${AssetsBucketPrefix}x.zip")}},
	} {
		if _, err := Write(fakeAssembly(t, files), "Lab", filepath.Join(t.TempDir(), "pkg")); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReferencedKeys(t *testing.T) {
	tmpl := []byte(`{"a":{"Fn::Sub":"${AssetsBucketPrefix}abc.zip"},"b":["x",{"Fn::Sub":"${AssetsBucketPrefix}d/e_noext"}],
		"c":{"Fn::Sub":"${AssetsBucketPrefix}abc.zip"},"d":{"Fn::Sub":"${AssetsBucketName}"}}`)
	if got, want := ReferencedKeys(tmpl), []string{"abc.zip", "d/e_noext"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ReferencedKeys = %v, want %v", got, want)
	}
}
