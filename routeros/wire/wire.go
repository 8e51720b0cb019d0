package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxWord is the longest word a Reader accepts by default. RouterOS words
// are short; the limit keeps a corrupt or hostile length prefix from
// allocating gigabytes.
const MaxWord = 1 << 20

// ErrWordTooLong is returned for a word over the reader's limit.
var ErrWordTooLong = errors.New("word too long")

// ErrTooManyWords is returned for a sentence over the reader's word limit.
var ErrTooManyWords = errors.New("too many words in one sentence")

// AppendLength appends the length prefix of an n-byte word.
func AppendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x4000:
		return append(b, byte(n>>8)|0x80, byte(n))
	case n < 0x200000:
		return append(b, byte(n>>16)|0xC0, byte(n>>8), byte(n))
	case n < 0x10000000:
		return append(b, byte(n>>24)|0xE0, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, 0xF0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendSentence appends words and the terminating empty word.
func AppendSentence(b []byte, words ...string) []byte {
	for _, w := range words {
		b = AppendLength(b, len(w))
		b = append(b, w...)
	}
	return append(b, 0)
}

// Reader reads words and sentences.
type Reader struct {
	r *bufio.Reader
	// Max is the longest word accepted; MaxWord when zero.
	Max int
	// MaxWords bounds the words of one sentence; no bound when zero.
	MaxWords int
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	if br, ok := r.(*bufio.Reader); ok {
		return &Reader{r: br}
	}
	return &Reader{r: bufio.NewReader(r)}
}

func (r *Reader) length() (int, error) {
	c, err := r.r.ReadByte()
	if err != nil {
		return 0, err
	}
	var extra int
	var n int
	switch {
	case c&0x80 == 0:
		return int(c), nil
	case c&0xC0 == 0x80:
		extra, n = 1, int(c&0x3F)
	case c&0xE0 == 0xC0:
		extra, n = 2, int(c&0x1F)
	case c&0xF0 == 0xE0:
		extra, n = 3, int(c&0x0F)
	case c == 0xF0:
		extra = 4
	default:
		return 0, fmt.Errorf("bad length prefix byte 0x%02X (a control byte)", c)
	}
	for range extra {
		b, err := r.r.ReadByte()
		if err != nil {
			return 0, unexpected(err)
		}
		n = n<<8 | int(b)
	}
	return n, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadWord reads one word; the empty word ends a sentence.
func (r *Reader) ReadWord() (string, error) {
	n, err := r.length()
	if err != nil {
		return "", err
	}
	limit := r.Max
	if limit <= 0 {
		limit = MaxWord
	}
	if n > limit {
		return "", fmt.Errorf("%w: %d bytes, limit %d", ErrWordTooLong, n, limit)
	}
	if n == 0 {
		return "", nil
	}
	var b strings.Builder
	b.Grow(n)
	if _, err := io.CopyN(&b, r.r, int64(n)); err != nil {
		return "", unexpected(err)
	}
	return b.String(), nil
}

// ReadSentence reads words up to the empty word. An empty sentence (a lone
// empty word) is returned as no words; RouterOS says to ignore it.
func (r *Reader) ReadSentence() ([]string, error) {
	var words []string
	for {
		w, err := r.ReadWord()
		if err != nil {
			if len(words) > 0 {
				err = unexpected(err)
			}
			return nil, err
		}
		if w == "" {
			return words, nil
		}
		if r.MaxWords > 0 && len(words) >= r.MaxWords {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyWords, r.MaxWords)
		}
		words = append(words, w)
	}
}

// Sentence is a parsed command or reply.
type Sentence struct {
	// Word is the command path ("/ip/dns/static/print") or the reply type
	// ("!re", "!done", "!trap", "!fatal", "!empty").
	Word string
	// Tag is the .tag= value pairing replies with requests.
	Tag string
	// Attrs are the =key=value words, in order; a key may be an API
	// attribute such as ".id" or ".proplist".
	Attrs []Pair
	// Queries are the ?words of a print, without the "?".
	Queries []string
	// Bare holds words without a prefix, such as a !fatal's reason.
	Bare []string
}

// Pair is one =key=value word.
type Pair struct{ Key, Value string }

// Parse splits words into a Sentence.
func Parse(words []string) Sentence {
	var s Sentence
	if len(words) == 0 {
		return s
	}
	s.Word = words[0]
	for _, w := range words[1:] {
		switch {
		case strings.HasPrefix(w, ".tag="):
			s.Tag = w[len(".tag="):]
		case strings.HasPrefix(w, "="):
			k, v, _ := strings.Cut(w[1:], "=")
			s.Attrs = append(s.Attrs, Pair{k, v})
		case strings.HasPrefix(w, "?"):
			s.Queries = append(s.Queries, w[1:])
		default:
			s.Bare = append(s.Bare, w)
		}
	}
	return s
}

// Get returns the value of the last =key= attribute and whether it was there.
func (s Sentence) Get(key string) (string, bool) {
	for i := len(s.Attrs) - 1; i >= 0; i-- {
		if s.Attrs[i].Key == key {
			return s.Attrs[i].Value, true
		}
	}
	return "", false
}

// Words turns the sentence back into words.
func (s Sentence) Words() []string {
	words := []string{s.Word}
	for _, a := range s.Attrs {
		words = append(words, "="+a.Key+"="+a.Value)
	}
	for _, q := range s.Queries {
		words = append(words, "?"+q)
	}
	words = append(words, s.Bare...)
	if s.Tag != "" {
		words = append(words, ".tag="+s.Tag)
	}
	return words
}
