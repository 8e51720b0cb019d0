// Command dupcount reads the rows of the `duplicates` tool (a pair of places
// sharing six or more lines: `D1 a.go:10-24 ~ b.go:40-54 ...`) on stdin and
// counts the pairs that are repeats once import blocks are passed over too.
// The tool passes over import lines, blank lines, comments and lone
// punctuation, but not the lines inside an `import ( ... )` block: any two
// files with six imports, or an import block's tail and a test's first
// lines, make a row. A row counts here only when each side keeps six or
// more lines that are none of these (issue 24). scripts/repeats runs it.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// minLines is how many shared lines make a pair, as the tool's default.
const minLines = 6

var row = regexp.MustCompile(`^D\d+ (\S+):(\d+)-(\d+) ~ (\S+):(\d+)-(\d+)`)

func main() {
	c, err := count(os.Stdin, os.ReadFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dupcount:", err)
		os.Exit(2)
	}
	fmt.Printf("repeats: %d (and %d rows with under %d lines outside import blocks)\n", len(c.real), c.artefacts, minLines)
	for _, r := range c.real {
		fmt.Println(r)
	}
	for _, r := range c.longestOnly {
		fmt.Println("judged by its longest run alone, its others unread:", r)
	}
	for _, l := range c.said {
		fmt.Println("the tool said:", l)
	}
}

// counted is what count makes of the tool's list.
type counted struct {
	real []string // rows that are repeats
	// artefacts counts the other rows; longestOnly are those of them
	// that share more runs than the one the row names (the tool names
	// only its longest, so a shorter repeat there goes uncounted).
	artefacts   int
	longestOnly []string
	// said are the tool's lines about the list itself: rows cut by
	// --most, runs left out, a list left incomplete. The count is a lower
	// bound when there are any.
	said []string
}

// count splits the tool's rows into repeats and import-block artefacts,
// reading each file named with read.
func count(rows io.Reader, read func(string) ([]byte, error)) (counted, error) {
	var c counted
	sc := bufio.NewScanner(rows)
	for sc.Scan() {
		text := sc.Text()
		m := row.FindStringSubmatch(text)
		if m == nil {
			if strings.HasPrefix(text, "(+") || strings.HasPrefix(text, "left out:") || strings.HasPrefix(text, "incomplete:") {
				c.said = append(c.said, text)
			}
			continue
		}
		least := -1
		for _, side := range [][]string{m[1:4], m[4:7]} {
			n, err := codeLines(side[0], side[1], side[2], read)
			if err != nil {
				return counted{}, err
			}
			if least < 0 || n < least {
				least = n
			}
		}
		switch {
		case least >= minLines:
			c.real = append(c.real, text)
		case strings.Contains(text, " more run"):
			c.artefacts++
			c.longestOnly = append(c.longestOnly, text)
		default:
			c.artefacts++
		}
	}
	return c, sc.Err()
}

// codeLines counts the lines from..to of path that the tool and this
// command both count: not blank, not a comment, not lone punctuation, not
// an import, not inside an import block.
func codeLines(path, from, to string, read func(string) ([]byte, error)) (int, error) {
	first, err1 := strconv.Atoi(from)
	last, err2 := strconv.Atoi(to)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: lines %s-%s are not numbers", path, from, to)
	}
	text, err := read(path)
	if err != nil {
		return 0, err
	}
	n, inImports, inComment := 0, false, false
	for i, l := range strings.Split(string(text), "\n") {
		s := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(s, "import ("):
			inImports = true
			continue
		case inImports:
			inImports = s != ")"
			continue
		case inComment || strings.HasPrefix(s, "/*"):
			inComment = !strings.Contains(s, "*/")
			continue
		case i+1 < first || i+1 > last:
			continue
		case s == "" || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "import ") || strings.Trim(s, "(){}[],;") == "":
			continue
		}
		n++
	}
	return n, nil
}
