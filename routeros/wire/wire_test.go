package wire

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// The five prefix sizes at their edges, as DESIGN.md gives them.
func TestLengthPrefixes(t *testing.T) {
	tests := []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x00}},
		{0x7F, []byte{0x7F}},
		{0x80, []byte{0x80, 0x80}},
		{0x3FFF, []byte{0xBF, 0xFF}},
		{0x4000, []byte{0xC0, 0x40, 0x00}},
		{0x1FFFFF, []byte{0xDF, 0xFF, 0xFF}},
		{0x200000, []byte{0xE0, 0x20, 0x00, 0x00}},
		{0xFFFFFFF, []byte{0xEF, 0xFF, 0xFF, 0xFF}},
		{0x10000000, []byte{0xF0, 0x10, 0x00, 0x00, 0x00}},
	}
	for _, tc := range tests {
		got := AppendLength(nil, tc.n)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("AppendLength(%#x) = % X, want % X", tc.n, got, tc.want)
		}
		r := NewReader(bytes.NewReader(got))
		if n, err := r.length(); err != nil || n != tc.n {
			t.Errorf("length(% X) = %#x, %v", got, n, err)
		}
	}
}

func TestWordsRoundTrip(t *testing.T) {
	for _, n := range []int{1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000} {
		word := strings.Repeat("x", n)
		data := AppendSentence(nil, "/ip/dns/static/print", word, "?name=tomtotrading.com")
		r := NewReader(bytes.NewReader(data))
		r.Max = 1 << 22
		got, err := r.ReadSentence()
		if err != nil || len(got) != 3 || got[1] != word || got[2] != "?name=tomtotrading.com" {
			t.Fatalf("n=%#x: %d words, %v", n, len(got), err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"control byte", []byte{0xF8}, "bad length prefix byte 0xF8"},
		{"too long", AppendLength(nil, MaxWord+1), "word too long"},
		{"cut in a word", []byte{0x05, 'a', 'b'}, "unexpected EOF"},
		{"cut in a sentence", []byte{0x01, 'a'}, "unexpected EOF"},
		{"cut in a prefix", []byte{0xC0, 0x01}, "unexpected EOF"},
	}
	for _, tc := range tests {
		_, err := NewReader(bytes.NewReader(tc.data)).ReadSentence()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewReader(bytes.NewReader(nil)).ReadSentence(); !errors.Is(err, io.EOF) {
		t.Errorf("clean end: %v, want io.EOF", err)
	}
}

func TestParse(t *testing.T) {
	s := Parse([]string{"/ip/dns/static/print", "=.proplist=.id,name", "?name=x", "?#|", ".tag=7", "=comment=a=b"})
	if s.Word != "/ip/dns/static/print" || s.Tag != "7" || !slices.Equal(s.Queries, []string{"name=x", "#|"}) {
		t.Errorf("%+v", s)
	}
	if v, _ := s.Get("comment"); v != "a=b" {
		t.Errorf("comment %q", v)
	}
	f := Parse([]string{"!fatal", "session terminated on request"})
	if f.Word != "!fatal" || len(f.Bare) != 1 || f.Bare[0] != "session terminated on request" {
		t.Errorf("%+v", f)
	}
	if got := Parse(s.Words()); got.Tag != s.Tag || len(got.Attrs) != 2 || len(got.Queries) != 2 {
		t.Errorf("round trip %+v", got)
	}
}

func FuzzReadSentence(f *testing.F) {
	f.Add(AppendSentence(nil, "/login", "=name=admin", "=password="))
	f.Add(AppendSentence(nil, "!fatal", "not logged in"))
	f.Add(AppendSentence(nil, "!re", "=.id=*1", ".tag=3"))
	f.Add([]byte{0xF0, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{0xC0, 0x40, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for range 1000 {
			words, err := r.ReadSentence()
			if err != nil {
				return
			}
			again, err := NewReader(bytes.NewReader(AppendSentence(nil, words...))).ReadSentence()
			if err != nil || !slices.Equal(again, words) {
				t.Fatalf("round trip of %q: %q, %v", words, again, err)
			}
			Parse(words)
		}
	})
}
