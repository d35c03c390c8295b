// helmrender: renders a Helm 3 chart the way `helm template` does, for tests on machines without helm
// (it is not in Debian 12). Same engine as Helm: Go's text/template with sprig v3 (minus env and
// expandenv), Helm's include, tpl, required, toYaml, fromYaml, toJson, fromJson and lookup (empty), and
// values parsed with ghodss/yaml (sigs.k8s.io/yaml's origin), so numbers are float64 as in Helm.
// Built from Debian packages only (golang-go, golang-github-masterminds-sprig-dev,
// golang-github-ghodss-yaml-dev) in GOPATH mode; see tests/deploy/helm_render.sh.
//
//	helmrender -chart DIR [-f override.yaml]... [-api-versions g/v,...] [-release NAME] [-namespace NS]
//
// Prints each rendered file as "---\n# Source: <chart>/templates/<file>\n<content>", skipping partials
// (_*.tpl), NOTES.txt and files that render to whitespace. Exits 1 with the error on any failure.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/ghodss/yaml"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Metadata mirrors the fields of Helm's chart.Metadata that templates use (.Chart.Name, ...).
type Metadata struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	AppVersion  string   `json:"appVersion"`
	Description string   `json:"description"`
	Type        string   `json:"type"`
	APIVersion  string   `json:"apiVersion"`
	Keywords    []string `json:"keywords"`
}

// VersionSet mirrors chartutil.VersionSet: .Capabilities.APIVersions.Has "group/version".
type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

type KubeVersion struct{ Version, Major, Minor string }

func (k KubeVersion) String() string     { return k.Version }
func (k KubeVersion) GitVersion() string { return k.Version }

type Capabilities struct {
	APIVersions VersionSet
	KubeVersion KubeVersion
	HelmVersion map[string]string
}

// Files mirrors the part of Helm's files type the chart uses.
type Files map[string][]byte

func (f Files) Get(name string) string      { return string(f[name]) }
func (f Files) GetBytes(name string) []byte { return f[name] }
func (f Files) Lines(name string) []string  { return strings.Split(string(f[name]), "\n") }

// Helm's built-in API versions (chartutil.DefaultVersionSet, abridged to the groups charts test for).
var defaultAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v1", "autoscaling/v2",
	"networking.k8s.io/v1", "rbac.authorization.k8s.io/v1", "storage.k8s.io/v1",
}

func readValues(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// coalesce merges src over dst like Helm's user values over chart defaults: maps merge key by key,
// anything else replaces, and null deletes the key.
func coalesce(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			coalesce(dm, sm)
		} else {
			dst[k] = v
		}
	}
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func run() error {
	var overrides multiFlag
	chartDir := flag.String("chart", "", "chart directory")
	apiVersions := flag.String("api-versions", "", "extra API versions, comma-separated")
	release := flag.String("release", "release-name", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	flag.Var(&overrides, "f", "values file (repeatable, later wins)")
	flag.Parse()
	if *chartDir == "" {
		return errors.New("-chart is required")
	}

	var meta Metadata
	chartYAML, err := os.ReadFile(filepath.Join(*chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(chartYAML, &meta); err != nil {
		return fmt.Errorf("Chart.yaml: %w", err)
	}
	values, err := readValues(filepath.Join(*chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, o := range overrides {
		v, err := readValues(o)
		if err != nil {
			return err
		}
		coalesce(values, v)
	}

	// Every file of the chart outside templates/ is in .Files, as in Helm (minus Chart.yaml and values.yaml).
	files := Files{}
	templates := map[string]string{}
	err = filepath.Walk(*chartDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(*chartDir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			templates[path.Join(meta.Name, rel)] = string(data)
		} else if rel != "Chart.yaml" && rel != "values.yaml" {
			files[rel] = data
		}
		return nil
	})
	if err != nil {
		return err
	}

	versions := append(VersionSet{}, defaultAPIVersions...)
	for _, v := range strings.Split(*apiVersions, ",") {
		if v = strings.TrimSpace(v); v != "" {
			versions = append(versions, v)
		}
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  meta,
		"Files":  files,
		"Release": map[string]interface{}{
			"Name": *release, "Namespace": *namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": Capabilities{
			APIVersions: versions,
			KubeVersion: KubeVersion{Version: "v1.28.0", Major: "1", Minor: "28"},
			HelmVersion: map[string]string{"version": "v3.14.0"},
		},
	}

	t := template.New("gotpl").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["toJson"] = toJSON
	funcs["fromJson"] = fromJSON
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var b strings.Builder
		err := t.ExecuteTemplate(&b, name, data)
		return b.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		c, err := t.Clone()
		if err != nil {
			return "", err
		}
		nt, err := c.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		err = nt.Execute(&b, data)
		return b.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	t.Funcs(funcs)

	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := t.New(n).Parse(templates[n]); err != nil {
			return fmt.Errorf("parse error: %w", err)
		}
	}
	for _, n := range names {
		base := path.Base(n)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		vals := map[string]interface{}{}
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": n, "BasePath": path.Join(meta.Name, "templates")}
		var b strings.Builder
		if err := t.ExecuteTemplate(&b, n, vals); err != nil {
			return fmt.Errorf("execution error: %w", err)
		}
		out := strings.ReplaceAll(b.String(), "<no value>", "")
		if strings.TrimSpace(out) == "" {
			continue
		}
		fmt.Printf("---\n# Source: %s\n%s\n", n, strings.TrimRight(out, "\n"))
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
