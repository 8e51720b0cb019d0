package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestCountPassesOverImportBlocks(t *testing.T) {
	files := map[string]string{
		// Lines 3-10 are an import block, 12-19 a test's body.
		"a_test.go": "package a\n\nimport (\n\t\"a\"\n\t\"b\"\n\t\"c\"\n\t\"d\"\n\t\"e\"\n\t\"f\"\n)\n\n" +
			"func TestA(t *testing.T) {\n\tx := 1\n\ty := 2\n\tz := 3\n\t// a comment\n\tw := x + y\n\tv := w + z\n\tu := v\n}\n",
		"b_test.go": "package b\n\nimport (\n\t\"a\"\n\t\"b\"\n\t\"c\"\n\t\"d\"\n\t\"e\"\n\t\"f\"\n)\n\n" +
			"func TestB(t *testing.T) {\n\tx := 1\n\ty := 2\n\tz := 3\n\t// a comment\n\tw := x + y\n\tv := w + z\n\tu := v\n}\n",
	}
	read := func(p string) ([]byte, error) {
		s, ok := files[p]
		if !ok {
			return nil, os.ErrNotExist
		}
		return []byte(s), nil
	}
	rows := strings.Join([]string{
		"142 pairs in 12 files",
		"D1 a_test.go:12-20 ~ b_test.go:12-20",     // a body of 7 code lines: a repeat
		"D2 a_test.go:3-10 ~ b_test.go:3-10 shape", // the import blocks alone
		"D3 a_test.go:7-14 ~ b_test.go:7-14 shape", // an import tail and 3 lines
		"D4 a_test.go:8-13 ~ b_test.go:8-13 shape (+1 more run)",
		"(+4 more pairs)",
		"left out: 2 runs of 6 lines that stand in more than 8 places each",
	}, "\n")
	c, err := count(strings.NewReader(rows), read)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.real) != "[D1 a_test.go:12-20 ~ b_test.go:12-20]" || c.artefacts != 3 {
		t.Fatalf("repeats %q, artefacts %d; want D1 alone and 3", c.real, c.artefacts)
	}
	if fmt.Sprint(c.longestOnly) != "[D4 a_test.go:8-13 ~ b_test.go:8-13 shape (+1 more run)]" {
		t.Errorf("rows judged by their longest run alone: %q, want D4", c.longestOnly)
	}
	if len(c.said) != 2 || !strings.HasPrefix(c.said[0], "(+4") || !strings.HasPrefix(c.said[1], "left out:") {
		t.Errorf("the tool's lines about its list: %q, want the cut and the runs left out", c.said)
	}
	if _, err := count(strings.NewReader("D1 gone.go:1-9 ~ a_test.go:1-9"), read); err == nil {
		t.Fatal("a row naming a file that is not there was counted")
	}
}
