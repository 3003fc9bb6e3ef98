//! The fake's `FilterString` / `OrderString` evaluator: `=`, `<>`, `!=`, `>`,
//! `>=`, `<`, `<=`, `like`, `not like`, `in (..)`, `not in (..)`,
//! `is [not] null`, `and`, `or`, `not`, parentheses. Field keys are
//! case-insensitive; dates compare as times.

use std::cmp::Ordering;
use std::collections::HashSet;

use integration_core::types::BeijingTime;
use rust_decimal::Decimal;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(String),
    Op(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Token::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Token::RParen);
            i += 1;
        } else if c == ',' {
            out.push(Token::Comma);
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string".into()),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Token::Str(s));
        } else if matches!(c, '=' | '<' | '>' | '!') {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if matches!(two.as_str(), "<>" | ">=" | "<=" | "!=") {
                out.push(Token::Op(two));
                i += 2;
            } else if c == '!' {
                return Err("unexpected '!'".into());
            } else {
                out.push(Token::Op(c.to_string()));
                i += 1;
            }
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Num(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.')) {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            return Err(format!("unexpected character {c:?}"));
        }
    }
    Ok(out)
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Always true (empty filter).
    True,
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `field op value`.
    Cmp(String, String, Value),
    /// `field [not] like 'pattern'`.
    Like(String, String, bool),
    /// `field [not] in (values)`.
    In(String, InList, bool),
    /// `field is [not] null`.
    IsNull(String, bool),
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&mut self, word: &str) -> bool {
        if let Some(Token::Ident(w)) = self.peek()
            && w.eq_ignore_ascii_case(word)
        {
            self.pos += 1;
            return true;
        }
        false
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Token::LParen) {
            self.pos += 1;
            let e = self.or()?;
            if self.next() != Some(Token::RParen) {
                return Err("missing ')'".into());
            }
            return Ok(e);
        }
        self.comparison()
    }
    fn value(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Value::String(s)),
            Some(Token::Num(n)) => Ok(n
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| n.parse::<f64>().map(Value::from))
                .map_err(|_| format!("bad number {n}"))?),
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
    fn comparison(&mut self) -> Result<Expr, String> {
        let field = match self.next() {
            Some(Token::Ident(f)) => f,
            other => return Err(format!("expected a field key, found {other:?}")),
        };
        let negated = self.keyword("not");
        if self.keyword("like") {
            return match self.next() {
                Some(Token::Str(p)) => Ok(Expr::Like(field, p, negated)),
                other => Err(format!("like needs a string, found {other:?}")),
            };
        }
        if self.keyword("in") {
            if self.next() != Some(Token::LParen) {
                return Err("in needs '('".into());
            }
            let mut values = vec![self.value()?];
            loop {
                match self.next() {
                    Some(Token::Comma) => values.push(self.value()?),
                    Some(Token::RParen) => break,
                    other => return Err(format!("expected ',' or ')', found {other:?}")),
                }
            }
            return Ok(Expr::In(field, InList::new(values), negated));
        }
        if negated {
            return Err("'not' must be followed by like or in".into());
        }
        if self.keyword("is") {
            let not = self.keyword("not");
            if !self.keyword("null") {
                return Err("expected null".into());
            }
            return Ok(Expr::IsNull(field, not));
        }
        match self.next() {
            Some(Token::Op(op)) => Ok(Expr::Cmp(field, op, self.value()?)),
            other => Err(format!(
                "expected an operator after {field}, found {other:?}"
            )),
        }
    }
}

/// The values of an `in (..)` list. The sink looks customers up by a list
/// of a hundred numbers in a store of many thousands, so the text values
/// are also kept lower-cased in a set: one lookup per row instead of a
/// hundred comparisons. `InList::contains` answers exactly as comparing
/// with every value would.
#[derive(Debug, Clone, PartialEq)]
pub struct InList {
    values: Vec<Value>,
    /// The text values, lower-cased.
    texts: HashSet<String>,
}

impl InList {
    fn new(values: Vec<Value>) -> Self {
        let texts = values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect();
        Self { values, texts }
    }

    /// Whether `v` equals one of the values, as [`compare`] sees it.
    fn contains(&self, v: &Value) -> bool {
        // Text that is not a time meets text values only as lower-cased
        // text (see `compare`), so the set answers for all of them; numbers
        // in the list still compare as numbers.
        if let Some(text) = v.as_str()
            && looks_like_time(text).is_none()
        {
            let lowered = text.to_lowercase();
            return self.texts.contains(&lowered)
                || self
                    .values
                    .iter()
                    .any(|x| !x.is_string() && compare(v, x) == Some(Ordering::Equal));
        }
        self.values
            .iter()
            .any(|x| compare(v, x) == Some(Ordering::Equal))
    }
}

/// Parses a `FilterString` (empty = everything).
pub fn parse(text: &str) -> Result<Expr, String> {
    if text.trim().is_empty() {
        return Ok(Expr::True);
    }
    let mut p = Parser {
        tokens: tokenize(text)?,
        pos: 0,
    };
    let e = p.or()?;
    if p.pos < p.tokens.len() {
        return Err(format!("unexpected {:?}", p.tokens[p.pos]));
    }
    Ok(e)
}

fn as_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(Decimal::from(u8::from(*b))),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        _ => None,
    }
}

/// Compares two values the way SQL would here: numbers numerically, dates as
/// times, text case-insensitively. `None` when either is null.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        return None;
    }
    if (matches!(a, Value::Number(_)) || matches!(b, Value::Number(_)))
        && let (Some(x), Some(y)) = (as_decimal(a), as_decimal(b))
    {
        return Some(x.cmp(&y));
    }
    let (x, y) = (as_text(a)?, as_text(b)?);
    if let (Some(tx), Some(ty)) = (looks_like_time(&x), looks_like_time(&y)) {
        return Some(tx.cmp(&ty));
    }
    Some(x.to_lowercase().cmp(&y.to_lowercase()))
}

fn looks_like_time(text: &str) -> Option<BeijingTime> {
    if text.len() >= 10 && text.as_bytes().get(4) == Some(&b'-') {
        BeijingTime::parse(text)
    } else {
        None
    }
}

fn like(text: &str, pattern: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&t[i..], &p[1..])),
            Some('_') => !t.is_empty() && go(&t[1..], &p[1..]),
            Some(c) => t.first().is_some_and(|x| x == c) && go(&t[1..], &p[1..]),
        }
    }
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    go(&t, &p)
}

impl Expr {
    /// Evaluates against a row, `get` resolving field keys.
    pub fn eval(&self, get: &dyn Fn(&str) -> Value) -> bool {
        match self {
            Expr::True => true,
            Expr::And(a, b) => a.eval(get) && b.eval(get),
            Expr::Or(a, b) => a.eval(get) || b.eval(get),
            Expr::Not(a) => !a.eval(get),
            Expr::Cmp(field, op, value) => {
                let Some(ord) = compare(&get(field), value) else {
                    return false;
                };
                match op.as_str() {
                    "=" => ord == Ordering::Equal,
                    "<>" | "!=" => ord != Ordering::Equal,
                    ">" => ord == Ordering::Greater,
                    ">=" => ord != Ordering::Less,
                    "<" => ord == Ordering::Less,
                    "<=" => ord != Ordering::Greater,
                    _ => false,
                }
            }
            Expr::Like(field, pattern, negated) => {
                let v = get(field);
                as_text(&v).is_some_and(|t| like(&t, pattern) != *negated)
            }
            Expr::In(field, values, negated) => {
                let v = get(field);
                if v.is_null() {
                    return false;
                }
                values.contains(&v) != *negated
            }
            Expr::IsNull(field, not) => {
                let v = get(field);
                let null = v.is_null() || v.as_str().is_some_and(str::is_empty);
                null != *not
            }
        }
    }
}

/// Parses an `OrderString` into (field, descending) pairs.
pub fn parse_order(text: &str) -> Vec<(String, bool)> {
    text.split(',')
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let field = words.next()?.to_owned();
            let desc = words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc"));
            Some((field, desc))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(key: &str) -> Value {
        match key.to_ascii_lowercase().as_str() {
            "fnumber" => json!("C0012"),
            "fname" => json!("上海恒达贸易有限公司"),
            "fmodifydate" => json!("2026-02-03T10:20:30.123"),
            "fqty" => json!(12.5),
            "fcreateorgid.fnumber" => json!("100"),
            _ => Value::Null,
        }
    }

    fn eval(filter: &str) -> bool {
        parse(filter).unwrap().eval(&row)
    }

    #[test]
    fn operators() {
        assert!(eval("FNumber = 'C0012'"));
        assert!(eval("FNUMBER <> 'C0013' and FQty > 12 and FQty <= 12.5"));
        assert!(eval(
            "FModifyDate >= '2026-02-03 10:20:30' and FModifyDate < '2026-02-04'"
        ));
        assert!(!eval("FModifyDate > '2026-02-03 10:20:31'"));
        assert!(eval("FName like '%恒达%' and FName not like '北京%'"));
        assert!(eval(
            "FNumber in ('C0001', 'C0012') and FCreateOrgId.FNumber = '100'"
        ));
        assert!(eval(
            "(FNumber = 'X' or FNumber = 'C0012') and not (FQty < 1)"
        ));
        assert!(!eval("FNumber = 'X' or (FQty >= 13)"));
        assert!(eval("FMissing is null and FNumber is not null"));
        assert!(!eval("FName = 'It''s'"));
        assert!(parse("FNumber = ").is_err());
        assert!(parse("(FNumber = 'a'").is_err());
        assert!(parse("FNumber ~ 'a'").is_err());
    }

    #[test]
    fn in_list_answers_as_comparing_with_every_value() {
        let values = [
            json!("C0012"),
            json!("c0013"),
            json!("Ünïcode-Ä"),
            json!("2026-02-03 10:20:30"),
            json!(7),
            json!(2.5),
            json!("007"),
            json!(""),
        ];
        let probes = [
            json!("C0012"),
            json!("c0012"),
            json!("C0013"),
            json!("ünïcode-ä"),
            json!("2026-02-03T10:20:30"),
            json!("2026-02-03 10:20:30"),
            json!("7"),
            json!("7.0"),
            json!(7),
            json!("2.50"),
            json!(7.0),
            json!("007"),
            json!(""),
            json!("C0014"),
            json!(true),
        ];
        for n in 0..=values.len() {
            let list = InList::new(values[..n].to_vec());
            for v in &probes {
                let naive = values[..n]
                    .iter()
                    .any(|x| compare(v, x) == Some(Ordering::Equal));
                assert_eq!(list.contains(v), naive, "{v} in {:?}", &values[..n]);
            }
        }
        assert!(eval("FNumber in ('c0001', 'c0012')"));
        assert!(!eval("FNumber not in ('X', 'C0012')"));
    }

    #[test]
    fn order() {
        assert_eq!(
            parse_order("FModifyDate ASC, FNumber desc"),
            vec![("FModifyDate".into(), false), ("FNumber".into(), true)]
        );
    }
}
