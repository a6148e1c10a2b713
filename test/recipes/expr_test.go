package recipes

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// The GitHub Actions expressions the recipes use (`${{ ... }}` and `if:`), evaluated as the runner
// does for the subset they need: context paths, string literals, ==, !=, &&, ||, !, parentheses and
// the status functions. An expression outside that subset fails the test, so a recipe cannot use a
// construct this harness would silently get wrong.

// ghContext is what expressions read: flat dotted paths ("github.ref", "secrets.X",
// "steps.plan.outputs.exitcode", "steps.plan.outcome") and the job's status so far.
type ghContext struct {
	values map[string]string
	failed bool // a previous step failed
}

var exprRef = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// interpolate replaces every ${{ expr }} in s with the expression's value.
func (c *ghContext) interpolate(s string) (string, error) {
	var firstErr error
	out := exprRef.ReplaceAllStringFunc(s, func(m string) string {
		v, err := c.eval(exprRef.FindStringSubmatch(m)[1])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v.String()
	})
	return out, firstErr
}

// condition evaluates an `if:`: "" is success(); a condition without a status function is ANDed with
// success(), as GitHub does.
func (c *ghContext) condition(s string) (bool, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "${{"), "}}")
	if strings.TrimSpace(s) == "" {
		return !c.failed, nil
	}
	v, err := c.eval(s)
	if err != nil {
		return false, err
	}
	if !regexp.MustCompile(`\b(always|failure|success|cancelled)\(\)`).MatchString(s) && c.failed {
		return false, nil
	}
	return v.truthy(), nil
}

type value struct {
	s      string
	b      bool
	isBool bool
}

func (v value) String() string {
	if v.isBool {
		return fmt.Sprint(v.b)
	}
	return v.s
}

func (v value) truthy() bool {
	if v.isBool {
		return v.b
	}
	return v.s != ""
}

func (c *ghContext) eval(src string) (value, error) {
	p := &exprParser{src: src, ctx: c}
	v, err := p.or()
	if err != nil {
		return value{}, fmt.Errorf("expression %q: %w", src, err)
	}
	p.space()
	if p.pos != len(p.src) {
		return value{}, fmt.Errorf("expression %q: unexpected %q", src, p.src[p.pos:])
	}
	return v, nil
}

type exprParser struct {
	src string
	pos int
	ctx *ghContext
}

func (p *exprParser) space() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

func (p *exprParser) take(tok string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *exprParser) or() (value, error) {
	l, err := p.and()
	for err == nil && p.take("||") {
		var r value
		if r, err = p.and(); l.truthy() {
			continue
		}
		l = r
	}
	return l, err
}

func (p *exprParser) and() (value, error) {
	l, err := p.cmp()
	for err == nil && p.take("&&") {
		var r value
		if r, err = p.cmp(); !l.truthy() {
			continue
		}
		l = r
	}
	return l, err
}

func (p *exprParser) cmp() (value, error) {
	l, err := p.unary()
	if err != nil {
		return l, err
	}
	switch {
	case p.take("=="):
		r, err := p.unary()
		return value{b: strings.EqualFold(l.String(), r.String()), isBool: true}, err
	case p.take("!="):
		r, err := p.unary()
		return value{b: !strings.EqualFold(l.String(), r.String()), isBool: true}, err
	}
	return l, nil
}

func (p *exprParser) unary() (value, error) {
	if p.take("!") {
		v, err := p.unary()
		return value{b: !v.truthy(), isBool: true}, err
	}
	if p.take("(") {
		v, err := p.or()
		if err == nil && !p.take(")") {
			err = fmt.Errorf("missing )")
		}
		return v, err
	}
	p.space()
	if p.take("'") {
		end := strings.IndexByte(p.src[p.pos:], '\'')
		if end < 0 {
			return value{}, fmt.Errorf("unterminated string")
		}
		s := p.src[p.pos : p.pos+end]
		p.pos += end + 1
		return value{s: s}, nil
	}
	start := p.pos
	for p.pos < len(p.src) {
		r := rune(p.src[p.pos])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-') {
			break
		}
		p.pos++
	}
	name := p.src[start:p.pos]
	if name == "" {
		return value{}, fmt.Errorf("unexpected %q", p.src[p.pos:])
	}
	if p.take("()") {
		switch name {
		case "always":
			return value{b: true, isBool: true}, nil
		case "success":
			return value{b: !p.ctx.failed, isBool: true}, nil
		case "failure":
			return value{b: p.ctx.failed, isBool: true}, nil
		case "cancelled":
			return value{b: false, isBool: true}, nil
		}
		return value{}, fmt.Errorf("function %s() is not one this harness knows", name)
	}
	switch name {
	case "true", "false":
		return value{b: name == "true", isBool: true}, nil
	}
	v, ok := p.ctx.values[name]
	if !ok && !strings.HasPrefix(name, "steps.") { // an unset step output is "" on GitHub too
		return value{}, fmt.Errorf("%s is not set in the harness's context: give it a value in the test", name)
	}
	return value{s: v}, nil
}
