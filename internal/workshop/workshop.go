// Package workshop turns a synthesized cloud assembly of the lab's workshop stack into a
// folder that deploys with nothing but CloudFormation: the entry template under static/, every
// file asset under assets/ at the key the templates expect, a contentspec.yaml fragment for
// AWS Workshop Studio and a README for both ways of deploying it. It reads the assembly's
// files only and needs no CDK at run time.
package workshop

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"
)

// Parameter names the templates read their assets through (the stacks package declares them).
const (
	BucketParameter = "AssetsBucketName"
	PrefixParameter = "AssetsBucketPrefix"
)

// Folders of the package, as a Workshop Studio repository lays them out: templates in
// static/, and assets/, whose S3 location Workshop Studio passes in as the two parameters.
const (
	StaticDir = "static"
	AssetsDir = "assets"
)

// Package is what Write produced.
type Package struct {
	// Dir is the package's folder.
	Dir string
	// EntryTemplate is the entry template's path relative to Dir (static/<stack>.template.json).
	EntryTemplate string
	// Stack is the entry stack's name in the assembly (the suggested stack name).
	Stack string
	// Assets are the asset keys written under assets/, sorted.
	Assets []string
	// Parameters are the entry template's parameters with their defaults ("" when none).
	Parameters []Parameter
}

// Parameter is one parameter of the entry template.
type Parameter struct {
	Name, Default, Description string
	AllowedValues              []string
	HasDefault                 bool
}

// assetManifest is the part of a cloud assembly's <stack>.assets.json the package needs.
type assetManifest struct {
	Files map[string]struct {
		Source struct {
			Path      string `json:"path"`
			Packaging string `json:"packaging"`
		} `json:"source"`
		Destinations map[string]struct {
			ObjectKey string `json:"objectKey"`
		} `json:"destinations"`
	} `json:"files"`
	DockerImages map[string]any `json:"dockerImages"`
}

// Write packages stack from the cloud assembly in assemblyDir into outDir, which it empties
// first. Every file asset must be placed under the prefix parameter; a Docker image asset
// cannot be packaged and is an error.
func Write(assemblyDir, stack, outDir string) (*Package, error) {
	raw, err := os.ReadFile(filepath.Join(assemblyDir, stack+".assets.json"))
	if err != nil {
		return nil, fmt.Errorf("asset manifest: %w", err)
	}
	var m assetManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("asset manifest %s.assets.json: %w", stack, err)
	}
	if len(m.DockerImages) > 0 {
		return nil, fmt.Errorf("%s has Docker image assets, which a CloudFormation-only package cannot hold", stack)
	}
	if err := os.RemoveAll(outDir); err != nil {
		return nil, err
	}
	for _, d := range []string{StaticDir, AssetsDir} {
		if err := os.MkdirAll(filepath.Join(outDir, d), 0o755); err != nil {
			return nil, err
		}
	}
	entryFile := stack + ".template.json"
	p := &Package{Dir: outDir, Stack: stack, EntryTemplate: filepath.ToSlash(filepath.Join(StaticDir, entryFile))}

	ids := make([]string, 0, len(m.Files))
	for id := range m.Files {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		f := m.Files[id]
		if f.Source.Path == entryFile {
			continue // the entry template goes to static/, not to the bucket
		}
		key, err := assetKey(id, f.Destinations)
		if err != nil {
			return nil, err
		}
		src := filepath.Join(assemblyDir, f.Source.Path)
		dst := filepath.Join(outDir, AssetsDir, filepath.FromSlash(key))
		info, err := os.Stat(src)
		if err != nil {
			return nil, fmt.Errorf("asset %s: %w", id, err)
		}
		switch {
		case info.IsDir() && f.Source.Packaging == "zip":
			err = zipDir(src, dst)
		case !info.IsDir() && (f.Source.Packaging == "file" || f.Source.Packaging == "zip" && strings.HasSuffix(src, ".zip")):
			err = copyFile(src, dst)
		case !info.IsDir() && f.Source.Packaging == "zip":
			err = zipFile(src, dst)
		default:
			err = fmt.Errorf("packaging %q of a directory is not supported", f.Source.Packaging)
		}
		if err != nil {
			return nil, fmt.Errorf("asset %s (%s): %w", id, f.Source.Path, err)
		}
		p.Assets = append(p.Assets, key)
	}
	sort.Strings(p.Assets)

	entry, err := os.ReadFile(filepath.Join(assemblyDir, entryFile))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(outDir, StaticDir, entryFile), entry, 0o644); err != nil {
		return nil, err
	}
	if p.Parameters, err = parameters(entry); err != nil {
		return nil, err
	}
	for name, tmpl := range map[string]*template.Template{"contentspec.yaml": contentSpec, "README.md": readme} {
		var b bytes.Buffer
		if err := tmpl.Execute(&b, p); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(outDir, name), b.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// assetKey is the object key of an asset below the prefix parameter. All destinations of an
// asset name the same key (the assembly is environment-agnostic).
func assetKey(id string, dests map[string]struct {
	ObjectKey string `json:"objectKey"`
}) (string, error) {
	prefix := "${" + PrefixParameter + "}"
	var key string
	for _, d := range dests {
		k, ok := strings.CutPrefix(d.ObjectKey, prefix)
		if !ok || k == "" || strings.Contains(k, "${") {
			return "", fmt.Errorf("asset %s: object key %q is not ${%s}<key>: synthesize with the workshop synthesizer", id, d.ObjectKey, PrefixParameter)
		}
		if key != "" && key != k {
			return "", fmt.Errorf("asset %s: two object keys %q and %q", id, key, k)
		}
		key = k
	}
	if key == "" {
		return "", fmt.Errorf("asset %s has no destination", id)
	}
	return key, nil
}

// keyRef finds an asset key in a template: the prefix parameter followed by the key.
var keyRef = regexp.MustCompile(`\$\{` + PrefixParameter + `\}([A-Za-z0-9._/-]+)`)

// ReferencedKeys lists, sorted and without repeats, the asset keys a template refers to
// through ${AssetsBucketPrefix} (Fn::Sub strings, wherever they sit in the template).
func ReferencedKeys(template []byte) []string {
	seen := map[string]bool{}
	for _, m := range keyRef.FindAllSubmatch(template, -1) {
		seen[string(m[1])] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parameters reads the entry template's parameters in name order.
func parameters(template []byte) ([]Parameter, error) {
	var t struct {
		Parameters map[string]struct {
			Default       *string  `json:"Default"`
			Description   string   `json:"Description"`
			AllowedValues []string `json:"AllowedValues"`
		} `json:"Parameters"`
	}
	if err := json.Unmarshal(template, &t); err != nil {
		return nil, fmt.Errorf("entry template: %w", err)
	}
	var ps []Parameter
	for name, v := range t.Parameters {
		p := Parameter{Name: name, Description: v.Description, AllowedValues: v.AllowedValues, HasDefault: v.Default != nil}
		if v.Default != nil {
			p.Default = *v.Default
		}
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps, nil
}

// zipEpoch is the timestamp of every zip entry, so that the same files give the same zip.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// zipDir zips the files under dir, paths relative to it, in name order.
func zipDir(dir, dst string) error {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	return writeZip(dst, func(zw *zip.Writer) error {
		for _, f := range files {
			rel, err := filepath.Rel(dir, f)
			if err != nil {
				return err
			}
			if err := addToZip(zw, f, filepath.ToSlash(rel)); err != nil {
				return err
			}
		}
		return nil
	})
}

// zipFile zips one file under its base name.
func zipFile(src, dst string) error {
	return writeZip(dst, func(zw *zip.Writer) error { return addToZip(zw, src, filepath.Base(src)) })
}

func writeZip(dst string, fill func(*zip.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(out)
	if err := fill(zw); err != nil {
		out.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func addToZip(zw *zip.Writer, path, name string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	h, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	h.Name, h.Method, h.Modified = name, zip.Deflate, zipEpoch
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
