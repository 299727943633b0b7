package knowledge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
)

// Fetcher gets pages over HTTP politely: a timeout per request, a size cap, a bounded number of
// redirects, robots.txt honoured, and at most a few requests to a host at once.
type Fetcher struct {
	Client    *http.Client
	UserAgent string
	MaxBytes  int64
	PerHost   int // concurrent requests per host

	mu     sync.Mutex
	robots map[string]*robotstxt.Group
	hosts  map[string]chan struct{}
}

// maxRedirects stops redirect loops early and says so.
const maxRedirects = 10

// NewFetcher returns a Fetcher with citybot's defaults.
func NewFetcher(timeout time.Duration, maxBytes int64) *Fetcher {
	return &Fetcher{
		Client: &http.Client{
			Timeout: timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= maxRedirects {
					return fmt.Errorf("more than %d redirects (a redirect loop?)", maxRedirects)
				}
				return nil
			},
		},
		UserAgent: "citybot/1.0 (+https://github.com/citybot-project/citybot)",
		MaxBytes:  maxBytes,
		PerHost:   4,
		robots:    map[string]*robotstxt.Group{},
		hosts:     map[string]chan struct{}{},
	}
}

// Document is a fetched resource.
type Document struct {
	URL          *url.URL // after redirects
	Body         []byte
	ContentType  string
	LastModified time.Time
}

// ErrNotHTML marks content that is not a web page.
var ErrNotHTML = errors.New("not HTML")

// ErrTooLarge marks a body over the size cap.
var ErrTooLarge = errors.New("larger than the size cap")

// ErrRobots marks a URL that robots.txt disallows.
var ErrRobots = errors.New("disallowed by robots.txt")

// Get fetches u; html says whether the content must be HTML (false for sitemaps).
func (f *Fetcher) Get(ctx context.Context, u string, html bool) (*Document, error) {
	d, body, err := f.open(ctx, u, html)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	d.Body, err = io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// open requests u and returns the document without its body, which the caller reads and
// closes: reading more than MaxBytes of it fails with ErrTooLarge.
func (f *Fetcher) open(ctx context.Context, u string, html bool) (*Document, io.ReadCloser, error) {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, nil, fmt.Errorf("invalid URL %q", u)
	}
	if !f.allowed(ctx, pu) {
		return nil, nil, ErrRobots
	}
	release := f.slot(pu.Host)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		release()
		return nil, nil, err
	}
	req.Header.Set("User-Agent", f.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5")
	resp, err := f.Client.Do(req)
	if err != nil {
		release()
		return nil, nil, simplifyNetErr(err)
	}
	fail := func(err error) (*Document, io.ReadCloser, error) {
		resp.Body.Close()
		release()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	ct := resp.Header.Get("Content-Type")
	if html && ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "text/html" && mt != "application/xhtml+xml" {
			return fail(fmt.Errorf("%w (%s)", ErrNotHTML, mt))
		}
	}
	if resp.ContentLength > f.MaxBytes {
		return fail(fmt.Errorf("%w: %d bytes, cap %d", ErrTooLarge, resp.ContentLength, f.MaxBytes))
	}
	d := &Document{URL: resp.Request.URL, ContentType: ct}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		d.LastModified = lm
	}
	return d, &cappedBody{body: resp.Body, left: f.MaxBytes, max: f.MaxBytes, release: release}, nil
}

// cappedBody is a response's body that fails past the size cap, and gives the host's slot back
// when closed.
type cappedBody struct {
	body    io.ReadCloser
	left    int64 // bytes the cap allows still
	max     int64 // the cap
	release func()
	closed  bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.body.Read(p)
	if b.left -= int64(n); b.left < 0 {
		return 0, fmt.Errorf("%w: over %d bytes", ErrTooLarge, b.max)
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("read body: %w", simplifyNetErr(err))
	}
	return n, err
}

func (b *cappedBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.body.Close()
	b.release()
	return err
}

// simplifyNetErr turns the transport's nested errors into what an editor can act on.
func simplifyNetErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("timed out")
		}
		return ue.Err
	}
	return err
}

func (f *Fetcher) slot(host string) func() {
	f.mu.Lock()
	ch, ok := f.hosts[host]
	if !ok {
		ch = make(chan struct{}, max(f.PerHost, 1))
		f.hosts[host] = ch
	}
	f.mu.Unlock()
	ch <- struct{}{}
	return func() { <-ch }
}

// allowed checks robots.txt, fetched once per host; a missing or unreadable robots.txt allows all.
func (f *Fetcher) allowed(ctx context.Context, u *url.URL) bool {
	key := u.Scheme + "://" + u.Host
	f.mu.Lock()
	g, ok := f.robots[key]
	f.mu.Unlock()
	if !ok {
		g = f.loadRobots(ctx, key)
		f.mu.Lock()
		f.robots[key] = g
		f.mu.Unlock()
	}
	if g == nil {
		return true
	}
	return g.Test(robotsPath(u))
}

// robotsPath is what robots.txt rules match for u: its escaped path and query.
func robotsPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

func (f *Fetcher) loadRobots(ctx context.Context, base string) *robotstxt.Group {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/robots.txt", nil)
	if err != nil {
		return nil
	}
	req.Header.Set("User-Agent", f.UserAgent)
	resp, err := f.Client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRobotsBytes))
	if err != nil {
		return nil
	}
	return robotsGroup(resp.StatusCode, body, f.UserAgent)
}

// maxRobotsBytes caps the robots.txt read.
const maxRobotsBytes = 512 << 10

// robotsGroup is the group of robots.txt rules (fetched with status) for userAgent; nil, all
// allowed, when it cannot be read.
func robotsGroup(status int, body []byte, userAgent string) *robotstxt.Group {
	data, err := robotstxt.FromStatusAndBytes(status, body)
	if err != nil {
		return nil
	}
	return data.FindGroup(strings.SplitN(userAgent, "/", 2)[0])
}
