//! Subscribe filter expressions (`filter-expr`), evaluated on a message's `meta` and `data`.
//!
//! Grammar: `expr := and ("||" and)*`, `and := unary ("&&" unary)*`,
//! `unary := "!" unary | "(" expr ")" | operand op operand` with `op` one of
//! `== != < > <= >= LIKE CONTAINS` and `operand` a field path (`meta.x.y`, `data.x`, or a bare
//! `x` meaning `meta.x`), a string in single or double quotes, a number, `true`, `false`, `null`.
//! A missing field is `null`; ordering compares numbers only (numeric strings count as numbers).

use serde_json::Value;

/// Longest accepted expression, in bytes.
const MAX_LEN: usize = 4096;
/// Deepest accepted nesting of parentheses and `!`.
const MAX_DEPTH: usize = 32;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    /// Both sides hold.
    And(Box<Filter>, Box<Filter>),
    /// Either side holds.
    Or(Box<Filter>, Box<Filter>),
    /// The inner expression does not hold.
    Not(Box<Filter>),
    /// A comparison of two operands.
    Compare(Operand, Op, Operand),
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// A field of `meta` (`true`) or `data` (`false`), by path.
    Field { meta: bool, path: Vec<String> },
    /// A literal value.
    Literal(Value),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Like,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Op(Op),
    Ident(String),
    Str(String),
    Num(f64),
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let two = |t: Token, tokens: &mut Vec<Token>| {
            tokens.push(t);
            2
        };
        i += match (c, next) {
            (c, _) if c.is_whitespace() => 1,
            ('(', _) => two(Token::Open, &mut tokens) - 1,
            (')', _) => two(Token::Close, &mut tokens) - 1,
            ('&', Some('&')) => two(Token::And, &mut tokens),
            ('|', Some('|')) => two(Token::Or, &mut tokens),
            ('=', Some('=')) => two(Token::Op(Op::Eq), &mut tokens),
            ('!', Some('=')) => two(Token::Op(Op::Ne), &mut tokens),
            ('<', Some('=')) => two(Token::Op(Op::Le), &mut tokens),
            ('>', Some('=')) => two(Token::Op(Op::Ge), &mut tokens),
            ('<', _) => two(Token::Op(Op::Lt), &mut tokens) - 1,
            ('>', _) => two(Token::Op(Op::Gt), &mut tokens) - 1,
            ('!', _) => two(Token::Not, &mut tokens) - 1,
            ('"' | '\'', _) => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err("unterminated string".into()),
                        Some('\\') => {
                            s.extend(chars.get(j + 1));
                            j += 2;
                        }
                        Some(q) if *q == c => break,
                        Some(other) => {
                            s.push(*other);
                            j += 1;
                        }
                    }
                }
                tokens.push(Token::Str(s));
                j + 1 - i
            }
            (c, _)
                if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) =>
            {
                let mut j = i + 1;
                while chars
                    .get(j)
                    .is_some_and(|d| d.is_ascii_digit() || *d == '.' || *d == 'e' || *d == 'E')
                {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                tokens.push(Token::Num(
                    text.parse().map_err(|_| format!("bad number {text}"))?,
                ));
                j - i
            }
            (c, _) if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut j = i + 1;
                while chars
                    .get(j)
                    .is_some_and(|d| d.is_alphanumeric() || matches!(d, '_' | '.' | '-' | '$'))
                {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                tokens.push(match word.to_ascii_uppercase().as_str() {
                    "LIKE" => Token::Op(Op::Like),
                    "CONTAINS" => Token::Op(Op::Contains),
                    _ => Token::Ident(word),
                });
                j - i
            }
            _ => return Err(format!("unexpected character {c:?}")),
        };
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.and(depth)?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and(depth)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.unary(depth)?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary(depth)?));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, String> {
        if depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        match self.peek() {
            Some(Token::Not) => {
                self.pos += 1;
                Ok(Filter::Not(Box::new(self.unary(depth + 1)?)))
            }
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.or(depth + 1)?;
                match self.bump() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("missing )".into()),
                }
            }
            _ => {
                let left = self.operand()?;
                let op = match self.bump() {
                    Some(Token::Op(op)) => op,
                    _ => return Err("expected a comparison operator".into()),
                };
                let right = self.operand()?;
                Ok(Filter::Compare(left, op, right))
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.bump() {
            Some(Token::Str(s)) => Ok(Operand::Literal(Value::String(s))),
            Some(Token::Num(n)) => Ok(Operand::Literal(
                serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
            )),
            Some(Token::Ident(word)) => Ok(match word.as_str() {
                "true" => Operand::Literal(Value::Bool(true)),
                "false" => Operand::Literal(Value::Bool(false)),
                "null" => Operand::Literal(Value::Null),
                _ => {
                    let mut path: Vec<String> = word.split('.').map(str::to_owned).collect();
                    let meta = match path.first().map(String::as_str) {
                        Some("data") if path.len() > 1 => false,
                        Some("meta") if path.len() > 1 => true,
                        _ => {
                            path.insert(0, "meta".into());
                            true
                        }
                    };
                    path.remove(0);
                    if path.iter().any(String::is_empty) {
                        return Err(format!("bad field path {word}"));
                    }
                    Operand::Field { meta, path }
                }
            }),
            _ => Err("expected a field or a literal".into()),
        }
    }
}

impl Filter {
    /// Parses an expression; the error says what is wrong with it.
    pub(crate) fn parse(input: &str) -> Result<Filter, String> {
        if input.len() > MAX_LEN {
            return Err("filter expression too long".into());
        }
        let mut parser = Parser {
            tokens: tokenize(input)?,
            pos: 0,
        };
        let filter = parser.or(0)?;
        if parser.pos != parser.tokens.len() {
            return Err("unexpected trailing input".into());
        }
        Ok(filter)
    }

    /// Whether a message with this `meta` and `data` passes.
    pub(crate) fn matches(&self, meta: &Value, data: &Value) -> bool {
        match self {
            Filter::And(a, b) => a.matches(meta, data) && b.matches(meta, data),
            Filter::Or(a, b) => a.matches(meta, data) || b.matches(meta, data),
            Filter::Not(a) => !a.matches(meta, data),
            Filter::Compare(l, op, r) => {
                compare(resolve(l, meta, data), *op, resolve(r, meta, data))
            }
        }
    }
}

fn resolve<'a>(operand: &'a Operand, meta: &'a Value, data: &'a Value) -> &'a Value {
    static NULL: Value = Value::Null;
    match operand {
        Operand::Literal(v) => v,
        Operand::Field {
            meta: is_meta,
            path,
        } => {
            let mut current = if *is_meta { meta } else { data };
            for key in path {
                current = match current {
                    Value::Object(map) => map.get(key).unwrap_or(&NULL),
                    Value::Array(items) => key
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i))
                        .unwrap_or(&NULL),
                    _ => &NULL,
                };
            }
            current
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn equal(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Number(_), _) | (_, Value::Number(_)) => match (number(l), number(r)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        _ => l == r,
    }
}

fn compare(l: &Value, op: Op, r: &Value) -> bool {
    let ordered = |f: fn(f64, f64) -> bool| match (number(l), number(r)) {
        (Some(a), Some(b)) => f(a, b),
        _ => false,
    };
    match op {
        Op::Eq => equal(l, r),
        Op::Ne => !equal(l, r),
        Op::Lt => ordered(|a, b| a < b),
        Op::Gt => ordered(|a, b| a > b),
        Op::Le => ordered(|a, b| a <= b),
        Op::Ge => ordered(|a, b| a >= b),
        Op::Like => match (l, r) {
            (Value::String(s), Value::String(p)) => like(s, p),
            _ => false,
        },
        Op::Contains => match (l, r) {
            (Value::String(s), Value::String(p)) => s.contains(p.as_str()),
            (Value::Array(items), v) => items.iter().any(|i| equal(i, v)),
            _ => false,
        },
    }
}

/// Glob match where `*` stands for any run of characters.
fn like(s: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return s == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(expr: &str, meta: Value, data: Value) -> bool {
        Filter::parse(expr).unwrap().matches(&meta, &data)
    }

    #[test]
    fn documented_example() {
        let expr = r#"(meta.priority == "high") && (data.score > 80)"#;
        assert!(check(
            expr,
            json!({"priority": "high"}),
            json!({"score": 90})
        ));
        assert!(!check(
            expr,
            json!({"priority": "low"}),
            json!({"score": 90})
        ));
        assert!(!check(
            expr,
            json!({"priority": "high"}),
            json!({"score": 80})
        ));
    }

    #[test]
    fn operators_and_precedence() {
        let meta = json!({"a": 1, "b": "x", "tags": ["t1"], "n": {"m": 2.5}});
        assert!(check(
            "a == 1 || b == 'nope' && a == 7",
            meta.clone(),
            Value::Null
        ));
        assert!(!check(
            "(a == 1 || b == 'nope') && a == 7",
            meta.clone(),
            Value::Null
        ));
        assert!(check(
            "meta.n.m >= 2.5 && meta.n.m <= 2.5 && a < 2 && a != 2",
            meta.clone(),
            Value::Null
        ));
        assert!(check(
            "b LIKE 'x*' && tags CONTAINS 't1' && !(b == 'y')",
            meta.clone(),
            Value::Null
        ));
        assert!(check("missing != 'me'", meta.clone(), Value::Null));
        assert!(!check("missing == 'me'", meta, Value::Null));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "", "a ==", "(a == 1", "a == 1)", "a 1", "'x", "data.*", "a = 1",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
        assert!(Filter::parse(&"(".repeat(100)).is_err());
    }

    #[test]
    fn like_globs() {
        assert!(like("hello", "h*o"));
        assert!(like("hello", "*ll*"));
        assert!(!like("hello", "*x*"));
        assert!(!like("ab", "a*b*b"));
    }
}
