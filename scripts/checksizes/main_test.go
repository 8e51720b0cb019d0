package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A file and a function one line over their limits are listed; ones at the
// limits, test files and what the go command does not build are not.
func TestCheck(t *testing.T) {
	root := t.TempDir()
	write := func(name string, body string) {
		t.Helper()
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// funcOf is a function of n lines, from func to its closing brace.
	funcOf := func(name string, n int) string {
		return "func " + name + "() {\n" + strings.Repeat("\t_ = 0\n", n-2) + "}\n"
	}
	write("a/ok.go", "package a\n\n"+funcOf("atLimit", 10))
	write("a/long.go", "package a\n\n"+funcOf("overLimit", 11))
	write("b/big.go", "package b\n"+strings.Repeat("\n", 20))
	write("b/big_test.go", "package b\n"+strings.Repeat("\n", 40)+funcOf("inTest", 30))
	write("b/testdata/big.go", "package b\n"+strings.Repeat("\n", 40))
	write(".hidden/big.go", "package h\n"+strings.Repeat("\n", 40))

	over, err := check(root, 20, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(root, "a/long.go") + ":3: overLimit 11 lines (func)",
		filepath.Join(root, "b/big.go") + ": 21 lines (file)",
	}
	if !slices.Equal(over, want) {
		t.Errorf("over the limits:\n%s\nwant:\n%s", strings.Join(over, "\n"), strings.Join(want, "\n"))
	}
}
