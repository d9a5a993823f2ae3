//! Parser for QLDB PartiQL: a hand-written recursive-descent parser with precedence climbing for
//! expressions, producing the tree in [`super::ast`].
//!
//! Precedence, lowest first: `OR`; `AND`; `NOT`; comparisons (`= <> != < > <= >=`, `IS`, `IN`,
//! `LIKE`, `BETWEEN`); `||`; `+ -`; `* / %`; unary `- +`; path steps (`.name`, `[expr]`, `[*]`).
//!
//! Syntax QLDB does not support (ORDER BY, GROUP BY, LIMIT, outer joins, set operators, CASE, …)
//! is refused with a message that names the feature.

use std::fmt;

use ion_rs::decimal::Coefficient;
use ion_rs::{Decimal, Element, IonType};

use super::ast::{
    BinaryOp, DmlOp, DmlTarget, Expr, FromItem, IsTest, Mutation, ParsedStatement, PathStep,
    ProjItem, Projection, Query, Statement, UnaryOp,
};
use super::lexer::{tokenize, Kw, Tok, Token};

/// A statement that could not be parsed. `message` includes the position
/// (`Syntax error at line 1, column 15: expected FROM, found 'FORM'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// Byte offset of the offending token in the statement text.
    pub offset: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    fn at(src: &str, offset: usize, what: &str) -> ParseError {
        let offset = offset.min(src.len());
        let before = &src.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        // `offset` is always at a token start, hence a char boundary; be defensive anyway.
        let column = match src.get(line_start..offset) {
            Some(s) => s.chars().count() + 1,
            None => offset - line_start + 1,
        };
        ParseError {
            message: format!("Syntax error at line {line}, column {column}: {what}"),
            line,
            column,
            offset,
        }
    }
}

type PResult<T> = Result<T, ParseError>;

/// Deepest nesting of expressions (parentheses, unary operators, subqueries, …) accepted before
/// giving up, so that hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 200;

// Binding powers of the operator levels, loosest first.
const P_OR: u8 = 1;
const P_AND: u8 = 2;
const P_NOT: u8 = 3;
const P_CMP: u8 = 4;
const P_CONCAT: u8 = 5;
const P_ADD: u8 = 6;
const P_MUL: u8 = 7;

/// Parses one PartiQL statement (an optional trailing `;` is allowed).
pub fn parse(text: &str) -> Result<ParsedStatement, ParseError> {
    let lexed = tokenize(text).map_err(|e| ParseError::at(text, e.offset, &e.message))?;
    let mut p = Parser {
        src: text,
        toks: lexed.tokens,
        pos: 0,
        depth: 0,
    };
    let statement = p.statement()?;
    p.finish()?;
    Ok(ParsedStatement {
        statement,
        param_count: lexed.param_count,
    })
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    // ----- token access -------------------------------------------------------------------

    #[inline]
    fn peek(&self) -> Tok {
        self.toks[self.pos].tok
    }

    #[inline]
    fn peek_at(&self, n: usize) -> Tok {
        let i = (self.pos + n).min(self.toks.len() - 1);
        self.toks[i].tok
    }

    #[inline]
    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos];
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    #[inline]
    fn text(&self, t: Token) -> &'a str {
        &self.src[t.start..t.end]
    }

    #[inline]
    fn cur(&self) -> Token {
        self.toks[self.pos]
    }

    fn eat(&mut self, tok: Tok) -> bool {
        if self.peek() == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: Kw) -> bool {
        self.eat(Tok::Word(kw))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> PResult<Token> {
        if self.peek() == tok {
            Ok(self.bump())
        } else {
            Err(self.expected(what))
        }
    }

    fn expect_kw(&mut self, kw: Kw, what: &str) -> PResult<()> {
        self.expect(Tok::Word(kw), what).map(|_| ())
    }

    /// Whether the current token is the non-reserved word `w` (any case).
    fn at_word(&self, w: &str) -> bool {
        self.word_at(0, w)
    }

    fn word_at(&self, n: usize, w: &str) -> bool {
        let i = (self.pos + n).min(self.toks.len() - 1);
        let t = self.toks[i];
        t.tok == Tok::Word(Kw::Ident) && self.text(t).eq_ignore_ascii_case(w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.at_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str, what: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    // ----- errors -----------------------------------------------------------------------

    fn error_at(&self, offset: usize, what: &str) -> ParseError {
        ParseError::at(self.src, offset, what)
    }

    /// Describes the current token for an error message.
    fn describe(&self, t: Token) -> String {
        const MAX: usize = 40;
        let text = self.text(t);
        let short = if text.len() > MAX {
            let mut cut = MAX;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}…", &text[..cut])
        } else {
            text.to_owned()
        };
        match t.tok {
            Tok::Eof => "end of input".to_owned(),
            Tok::Str { .. } => format!("string {short}"),
            Tok::Ion => format!("Ion literal {short}"),
            Tok::QuotedIdent { .. } => format!("identifier {short}"),
            Tok::Word(kw) if kw != Kw::Ident => format!("keyword '{short}'"),
            _ => format!("'{short}'"),
        }
    }

    /// `expected <what>, found <current token>`, or the unsupported-feature message when the
    /// current token is a keyword such as ORDER, GROUP or LIMIT.
    fn expected(&self, what: &str) -> ParseError {
        let t = self.cur();
        if let Tok::Word(kw) = t.tok {
            if let Some(msg) = unsupported_feature(kw) {
                return self.error_at(t.start, msg);
            }
        }
        self.error_at(
            t.start,
            &format!("expected {what}, found {}", self.describe(t)),
        )
    }

    /// Like [`Self::expected`], with a hint when a reserved word was used as a name.
    fn expected_name(&self, what: &str) -> ParseError {
        let t = self.cur();
        if let Tok::Word(kw) = t.tok {
            // A bare ORDER where a name is expected is more likely a table or field called
            // "order" than an ORDER BY clause, unless BY follows.
            let feature = match kw {
                Kw::Order => self.peek_at(1) == Tok::Word(Kw::By),
                _ => unsupported_feature(kw).is_some(),
            };
            if kw != Kw::Ident && !feature {
                let text = self.text(t);
                return self.error_at(
                    t.start,
                    &format!(
                        "expected {what}, found keyword '{text}' (reserved words used as names \
                         must be double-quoted, e.g. \"{text}\")"
                    ),
                );
            }
        }
        self.expected(what)
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(self.error_at(self.cur().start, "statement is nested too deeply (too many nested parentheses, operators or subqueries)"))
        } else {
            Ok(())
        }
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ----- names ------------------------------------------------------------------------

    /// The text of an identifier token (unquoted word or `"quoted"` identifier).
    fn ident_text(&self, t: Token) -> String {
        match t.tok {
            Tok::QuotedIdent { escaped } => unquote(self.text(t), escaped, "\"\"", "\""),
            _ => self.text(t).to_owned(),
        }
    }

    /// Whether the current token can be a name: a non-reserved word or a quoted identifier.
    fn at_name(&self) -> bool {
        matches!(self.peek(), Tok::Word(Kw::Ident) | Tok::QuotedIdent { .. })
    }

    fn expect_name(&mut self, what: &str) -> PResult<String> {
        if self.at_name() {
            let t = self.bump();
            Ok(self.ident_text(t))
        } else {
            Err(self.expected_name(what))
        }
    }

    /// `[AS] alias`: a name after `AS`, or a bare name.
    fn opt_alias(&mut self) -> PResult<Option<String>> {
        if self.eat_kw(Kw::As) {
            return self.expect_name("an alias after AS").map(Some);
        }
        if self.at_name() {
            let t = self.bump();
            return Ok(Some(self.ident_text(t)));
        }
        Ok(None)
    }

    // ----- statements -------------------------------------------------------------------

    fn finish(&mut self) -> PResult<()> {
        self.eat(Tok::Semicolon);
        if self.peek() == Tok::Eof {
            return Ok(());
        }
        if self.pos > 0 && self.toks[self.pos - 1].tok == Tok::Semicolon {
            return Err(self.error_at(
                self.cur().start,
                "only one statement is allowed per request",
            ));
        }
        Err(self.expected("end of statement"))
    }

    fn statement(&mut self) -> PResult<Statement> {
        let t = self.cur();
        match t.tok {
            Tok::Eof | Tok::Semicolon => {
                Err(self.error_at(t.start, "empty statement: expected a PartiQL statement"))
            }
            Tok::Word(Kw::Select) => {
                self.bump();
                Ok(Statement::Select(self.query()?))
            }
            Tok::Word(Kw::From) => {
                self.bump();
                self.dml_from()
            }
            Tok::Word(Kw::Insert) => {
                self.bump();
                self.insert()
            }
            Tok::Word(Kw::Ident) => {
                let word = self.text(t);
                if word.eq_ignore_ascii_case("create") {
                    self.bump();
                    self.create()
                } else if word.eq_ignore_ascii_case("drop") {
                    self.bump();
                    self.drop()
                } else if word.eq_ignore_ascii_case("undrop") {
                    self.bump();
                    self.expect_word("table", "TABLE after UNDROP")?;
                    let table_id = self.expect_name("a table id after UNDROP TABLE")?;
                    Ok(Statement::UndropTable { table_id })
                } else if word.eq_ignore_ascii_case("update") {
                    self.bump();
                    self.update()
                } else if word.eq_ignore_ascii_case("delete") {
                    self.bump();
                    self.delete()
                } else if word.eq_ignore_ascii_case("exec") {
                    self.bump();
                    self.exec()
                } else {
                    Err(self.unknown_statement(t))
                }
            }
            Tok::Word(kw) if unsupported_feature(kw).is_some() => Err(self.expected("")),
            _ => Err(self.unknown_statement(t)),
        }
    }

    fn unknown_statement(&self, t: Token) -> ParseError {
        self.error_at(
            t.start,
            &format!(
                "unknown statement: expected SELECT, INSERT, UPDATE, DELETE, FROM, CREATE, DROP, \
                 UNDROP or EXEC, found {}",
                self.describe(t)
            ),
        )
    }

    fn create(&mut self) -> PResult<Statement> {
        if self.eat_word("table") {
            let name = self.expect_name("a table name after CREATE TABLE")?;
            let tags = if self.eat_word("with") {
                self.expect(Tok::LParen, "'(' after WITH")?;
                self.expect_word("aws_tags", "aws_tags")?;
                self.expect(Tok::Eq, "'=' after aws_tags")?;
                let e = self.expr()?;
                self.expect(Tok::RParen, "')'")?;
                Some(e)
            } else {
                None
            };
            Ok(Statement::CreateTable { name, tags })
        } else if self.eat_word("index") {
            self.expect_kw(Kw::On, "ON after CREATE INDEX")?;
            let table = self.expect_name("a table name after CREATE INDEX ON")?;
            self.expect(Tok::LParen, "'(' and the field to index")?;
            let field = self.expect_name("the field to index")?;
            match self.peek() {
                Tok::Comma => {
                    return Err(
                        self.error_at(self.cur().start, "CREATE INDEX accepts exactly one field")
                    )
                }
                Tok::Dot | Tok::LBracket => {
                    return Err(self.error_at(
                        self.cur().start,
                        "CREATE INDEX supports only a top-level field",
                    ))
                }
                _ => {}
            }
            self.expect(Tok::RParen, "')'")?;
            Ok(Statement::CreateIndex { table, field })
        } else {
            Err(self.expected("TABLE or INDEX after CREATE"))
        }
    }

    fn drop(&mut self) -> PResult<Statement> {
        if self.eat_word("table") {
            let name = self.expect_name("a table name after DROP TABLE")?;
            Ok(Statement::DropTable { name })
        } else if self.eat_word("index") {
            let index_id = self.expect_name("an index id after DROP INDEX")?;
            self.expect_kw(Kw::On, "ON")?;
            let table = self.expect_name("a table name")?;
            const REQUIRED: &str = "DROP INDEX requires WITH (purge = true)";
            if !self.eat_word("with") {
                return Err(self.error_at(self.cur().start, REQUIRED));
            }
            self.expect(Tok::LParen, "'(' after WITH")?;
            let t = self.cur();
            if t.tok != Tok::Word(Kw::Ident) || self.text(t) != "purge" {
                if self.at_word("purge") {
                    return Err(self.error_at(t.start, "'purge' must be written in lowercase"));
                }
                return Err(self.error_at(t.start, REQUIRED));
            }
            self.bump();
            self.expect(Tok::Eq, "'=' after purge")?;
            if !self.eat_kw(Kw::True) {
                return Err(self.error_at(self.cur().start, REQUIRED));
            }
            self.expect(Tok::RParen, "')'")?;
            Ok(Statement::DropIndex { index_id, table })
        } else {
            Err(self.expected("TABLE or INDEX after DROP"))
        }
    }

    /// After `INSERT`.
    fn insert(&mut self) -> PResult<Statement> {
        self.expect_word("into", "INTO after INSERT")?;
        let table = self.expect_name("a table name after INSERT INTO")?;
        if self.eat_kw(Kw::Value) {
            let value = self.expr()?;
            return Ok(Statement::Insert {
                table,
                value,
                single: true,
            });
        }
        if matches!(self.peek(), Tok::Eof | Tok::Semicolon) {
            return Err(self.expected("VALUE, a bag << … >> or ? after the table name"));
        }
        if self.peek() == Tok::Word(Kw::Values) {
            return Err(self.expected(""));
        }
        let value = self.expr()?;
        Ok(Statement::Insert {
            table,
            value,
            single: false,
        })
    }

    /// `name [[AS] alias] [BY id]`
    fn dml_target(&mut self) -> PResult<DmlTarget> {
        let table = self.expect_name("a table name")?;
        let alias = self.opt_alias()?;
        let by = if self.eat_kw(Kw::By) {
            Some(self.expect_name("a name after BY")?)
        } else {
            None
        };
        Ok(DmlTarget { table, alias, by })
    }

    fn opt_where(&mut self) -> PResult<Option<Expr>> {
        if self.eat_kw(Kw::Where) {
            Ok(Some(self.expr()?))
        } else {
            Ok(None)
        }
    }

    /// After `UPDATE`.
    fn update(&mut self) -> PResult<Statement> {
        let target = self.dml_target()?;
        let ops = self.dml_ops()?;
        let where_ = self.opt_where()?;
        Ok(Statement::Mutate(Mutation {
            target,
            extra_sources: Vec::new(),
            where_,
            ops,
        }))
    }

    /// After `DELETE`.
    fn delete(&mut self) -> PResult<Statement> {
        self.expect_kw(Kw::From, "FROM after DELETE")?;
        let target = self.dml_target()?;
        let where_ = self.opt_where()?;
        Ok(Statement::Delete { target, where_ })
    }

    /// After the leading `FROM` of a FROM-DML statement.
    fn dml_from(&mut self) -> PResult<Statement> {
        let target = self.dml_target()?;
        let mut extra_sources = Vec::new();
        while self.eat(Tok::Comma) {
            extra_sources.push(self.source_item()?);
        }
        let where_ = self.opt_where()?;
        let ops = self.dml_ops()?;
        Ok(Statement::Mutate(Mutation {
            target,
            extra_sources,
            where_,
            ops,
        }))
    }

    /// One or more of `SET p = e {, p = e}`, `INSERT INTO p VALUE e [AT k]`, `REMOVE p`.
    fn dml_ops(&mut self) -> PResult<Vec<DmlOp>> {
        let mut ops = Vec::new();
        loop {
            match self.peek() {
                Tok::Word(Kw::Set) => {
                    self.bump();
                    loop {
                        let path = self.dml_path()?;
                        self.expect(Tok::Eq, "'=' in SET")?;
                        let value = self.expr()?;
                        ops.push(DmlOp::Set { path, value });
                        if !self.eat(Tok::Comma) {
                            break;
                        }
                    }
                }
                Tok::Word(Kw::Insert) => {
                    self.bump();
                    self.expect_word("into", "INTO after INSERT")?;
                    let path = self.dml_path()?;
                    self.expect_kw(Kw::Value, "VALUE")?;
                    let value = self.expr()?;
                    let at = if self.eat_kw(Kw::At) {
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    ops.push(DmlOp::InsertInto { path, value, at });
                }
                Tok::Word(Kw::Remove) => {
                    self.bump();
                    let path = self.dml_path()?;
                    ops.push(DmlOp::Remove { path });
                }
                _ => break,
            }
        }
        if ops.is_empty() {
            return Err(self.expected("SET, INSERT INTO or REMOVE"));
        }
        Ok(ops)
    }

    /// The target of a DML operation: a name or `@name` followed by path steps.
    fn dml_path(&mut self) -> PResult<Expr> {
        let root = match self.peek() {
            Tok::At => {
                self.bump();
                let name = self.expect_name("a name after '@'")?;
                Expr::Var {
                    name,
                    at_prefixed: true,
                }
            }
            _ => {
                let name = self.expect_name("a path")?;
                Expr::Var {
                    name,
                    at_prefixed: false,
                }
            }
        };
        self.postfix(root)
    }

    /// After `EXEC`.
    fn exec(&mut self) -> PResult<Statement> {
        let t = self.cur();
        let procedure = match t.tok {
            Tok::Word(Kw::Ident) => {
                self.bump();
                self.text(t).to_ascii_lowercase()
            }
            Tok::QuotedIdent { .. } => {
                self.bump();
                self.ident_text(t)
            }
            _ => return Err(self.expected_name("a procedure name after EXEC")),
        };
        let mut args = Vec::new();
        if !matches!(self.peek(), Tok::Eof | Tok::Semicolon) {
            loop {
                args.push(self.expr()?);
                if !self.eat(Tok::Comma) {
                    break;
                }
            }
        }
        Ok(Statement::Exec { procedure, args })
    }

    // ----- SELECT -----------------------------------------------------------------------

    /// After `SELECT`.
    fn query(&mut self) -> PResult<Query> {
        self.enter()?;
        let projection = if self.eat(Tok::Star) {
            Projection::Star
        } else if self.eat_kw(Kw::Value) {
            Projection::Value(self.expr()?)
        } else if self.peek() == Tok::Word(Kw::Distinct) {
            return Err(self.expected(""));
        } else {
            Projection::Items(self.proj_items()?)
        };
        self.expect_kw(Kw::From, "FROM")?;
        let from = self.source_list()?;
        let where_ = self.opt_where()?;
        self.leave();
        Ok(Query {
            projection,
            from,
            where_,
        })
    }

    fn proj_items(&mut self) -> PResult<Vec<ProjItem>> {
        let mut items = Vec::new();
        loop {
            let start = self.cur().start;
            let expr = self.expr()?;
            if self.peek() == Tok::Dot && self.peek_at(1) == Tok::Star {
                if !matches!(expr, Expr::Var { .. } | Expr::Path { .. }) {
                    return Err(self.error_at(start, "'.*' must follow a name or a path"));
                }
                self.bump();
                self.bump();
                items.push(ProjItem::AllFields(expr));
            } else {
                let alias = self.opt_alias()?;
                items.push(ProjItem::Expr { expr, alias });
            }
            if !self.eat(Tok::Comma) {
                break;
            }
        }
        Ok(items)
    }

    fn source_list(&mut self) -> PResult<Vec<FromItem>> {
        let mut items = vec![self.source_item()?];
        loop {
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                    items.push(self.source_item()?);
                }
                Tok::Word(Kw::Cross | Kw::Inner | Kw::Join) => items.push(self.join_item()?),
                _ => break,
            }
        }
        Ok(items)
    }

    /// `CROSS JOIN item` or `[INNER] JOIN item [ON cond]`.
    fn join_item(&mut self) -> PResult<FromItem> {
        if self.eat_kw(Kw::Cross) {
            self.expect_kw(Kw::Join, "JOIN after CROSS")?;
            return self.source_item();
        }
        if self.eat_kw(Kw::Inner) {
            self.expect_kw(Kw::Join, "JOIN after INNER")?;
        } else {
            self.bump();
        }
        let mut item = self.source_item()?;
        if self.eat_kw(Kw::On) {
            item.on = Some(self.expr()?);
        }
        Ok(item)
    }

    /// `source [[AS] alias] [AT name] [BY name]`
    fn source_item(&mut self) -> PResult<FromItem> {
        if self.peek() == Tok::Word(Kw::Unpivot) {
            return Err(self.expected(""));
        }
        let source = self.expr()?;
        let alias = self.opt_alias()?;
        let at = if self.eat_kw(Kw::At) {
            Some(self.expect_name("a name after AT")?)
        } else {
            None
        };
        let by = if self.eat_kw(Kw::By) {
            Some(self.expect_name("a name after BY")?)
        } else {
            None
        };
        Ok(FromItem {
            source,
            alias,
            at,
            by,
            on: None,
        })
    }

    // ----- expressions ------------------------------------------------------------------

    // The functions on the recursion path of nested expressions (`expr_bp` → `unary` →
    // `primary` → `paren` → `expr_bp` …) are kept small and the rarer cases are moved into
    // functions of their own, so that each nesting level costs little stack, even in debug
    // builds.

    fn expr(&mut self) -> PResult<Expr> {
        self.expr_bp(P_OR)
    }

    /// Precedence climbing: parses an expression whose operators all bind at least as tightly
    /// as `min`. Every operator applied adds one to the nesting depth, so long chains are
    /// bounded like deep parentheses (the tree height stays below [`MAX_DEPTH`]).
    fn expr_bp(&mut self, min: u8) -> PResult<Expr> {
        self.enter()?;
        let depth_before = self.depth;
        let mut left = if min <= P_NOT && self.peek() == Tok::Word(Kw::Not) {
            self.not_prefix()?
        } else {
            self.unary()?
        };
        loop {
            let tok = self.peek();
            let prec = match tok {
                Tok::Word(Kw::Or) => P_OR,
                Tok::Word(Kw::And) => P_AND,
                Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge => P_CMP,
                Tok::Word(Kw::Is | Kw::In | Kw::Like | Kw::Between) => P_CMP,
                Tok::Word(Kw::Not)
                    if matches!(self.peek_at(1), Tok::Word(Kw::In | Kw::Like | Kw::Between)) =>
                {
                    P_CMP
                }
                Tok::Concat => P_CONCAT,
                Tok::Plus | Tok::Minus => P_ADD,
                Tok::Star | Tok::Slash | Tok::Percent => P_MUL,
                _ => break,
            };
            if prec < min {
                break;
            }
            self.enter()?;
            left = self.infix(left, tok, prec)?;
        }
        self.depth = depth_before - 1;
        Ok(left)
    }

    /// `NOT operand` (the current token is `NOT`).
    fn not_prefix(&mut self) -> PResult<Expr> {
        self.bump();
        let operand = self.expr_bp(P_NOT)?;
        Ok(Expr::Unary {
            op: UnaryOp::Not,
            operand: Box::new(operand),
        })
    }

    /// Applies the operator `tok` (current token) of precedence `prec` to `left`.
    fn infix(&mut self, left: Expr, tok: Tok, prec: u8) -> PResult<Expr> {
        match tok {
            Tok::Word(Kw::Is) => self.is_test(left),
            Tok::Word(Kw::Not) => {
                self.bump();
                self.predicate(left, true)
            }
            Tok::Word(Kw::In | Kw::Like | Kw::Between) => self.predicate(left, false),
            _ => {
                self.bump();
                // All binary operators are left-associative.
                let right = self.expr_bp(prec + 1)?;
                Ok(binary(binary_op(tok), left, right))
            }
        }
    }

    /// After the value of `IS`; the current token is `IS`.
    fn is_test(&mut self, value: Expr) -> PResult<Expr> {
        self.bump();
        let negated = self.eat_kw(Kw::Not);
        let t = self.cur();
        let test = match t.tok {
            Tok::Word(Kw::Null) => IsTest::Null,
            Tok::Word(Kw::Missing) => IsTest::Missing,
            Tok::Word(Kw::Ident) => IsTest::Type(self.text(t).to_ascii_lowercase()),
            _ => return Err(self.expected("NULL, MISSING or a type name after IS")),
        };
        self.bump();
        Ok(Expr::Is {
            value: Box::new(value),
            test,
            negated,
        })
    }

    /// `IN …`, `LIKE …` or `BETWEEN …` (the keyword is the current token).
    fn predicate(&mut self, value: Expr, negated: bool) -> PResult<Expr> {
        let value = Box::new(value);
        match self.bump().tok {
            Tok::Word(Kw::In) => {
                let list = if self.peek() == Tok::LParen && self.peek_at(1) != Tok::Word(Kw::Select)
                {
                    self.bump();
                    self.enter()?;
                    let items = self.expr_list(Tok::RParen, "')'")?;
                    self.leave();
                    if items.is_empty() {
                        return Err(self.error_at(
                            self.toks[self.pos - 1].start,
                            "expected an expression in the IN list, found ')'",
                        ));
                    }
                    Expr::List(items)
                } else {
                    self.expr_bp(P_CONCAT)?
                };
                Ok(Expr::In {
                    value,
                    list: Box::new(list),
                    negated,
                })
            }
            Tok::Word(Kw::Like) => {
                let pattern = Box::new(self.expr_bp(P_CONCAT)?);
                let escape = if self.eat_kw(Kw::Escape) {
                    Some(Box::new(self.expr_bp(P_CONCAT)?))
                } else {
                    None
                };
                Ok(Expr::Like {
                    value,
                    pattern,
                    escape,
                    negated,
                })
            }
            _ => {
                let low = Box::new(self.expr_bp(P_CONCAT)?);
                self.expect_kw(Kw::And, "AND in BETWEEN")?;
                let high = Box::new(self.expr_bp(P_CONCAT)?);
                Ok(Expr::Between {
                    value,
                    low,
                    high,
                    negated,
                })
            }
        }
    }

    /// A primary with its path steps, possibly after prefix `-`/`+`.
    fn unary(&mut self) -> PResult<Expr> {
        if matches!(self.peek(), Tok::Minus | Tok::Plus) {
            return self.signed();
        }
        let primary = self.primary()?;
        self.postfix(primary)
    }

    /// Prefix `-`/`+` (iteratively), then a primary with its path steps.
    fn signed(&mut self) -> PResult<Expr> {
        let mut ops = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Minus => UnaryOp::Neg,
                Tok::Plus => UnaryOp::Pos,
                _ => break,
            };
            self.bump();
            self.enter()?;
            ops.push(op);
        }
        let primary = self.primary()?;
        let mut e = self.postfix(primary)?;
        self.depth -= ops.len();
        while let Some(op) = ops.pop() {
            e = Expr::Unary {
                op,
                operand: Box::new(e),
            };
        }
        Ok(e)
    }

    /// Path steps after `root`: `.name`, `."Name"`, `[expr]`, `[*]`. A `.*` is left for the
    /// projection list.
    fn postfix(&mut self, root: Expr) -> PResult<Expr> {
        if !matches!(self.peek(), Tok::Dot | Tok::LBracket) {
            return Ok(root);
        }
        self.path_steps(root)
    }

    fn path_steps(&mut self, root: Expr) -> PResult<Expr> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Tok::Dot => match self.peek_at(1) {
                    Tok::Star => break,
                    Tok::Word(_) => {
                        self.bump();
                        let t = self.bump();
                        steps.push(PathStep::Field(self.text(t).to_owned()));
                    }
                    Tok::QuotedIdent { .. } => {
                        self.bump();
                        let t = self.bump();
                        steps.push(PathStep::Field(self.ident_text(t)));
                    }
                    _ => {
                        self.bump();
                        return Err(self.expected("a field name after '.'"));
                    }
                },
                Tok::LBracket => {
                    self.bump();
                    if self.peek() == Tok::Star && self.peek_at(1) == Tok::RBracket {
                        self.bump();
                        self.bump();
                        steps.push(PathStep::Wildcard);
                    } else {
                        let index = self.expr()?;
                        self.expect(Tok::RBracket, "']'")?;
                        steps.push(PathStep::Index(Box::new(index)));
                    }
                }
                _ => break,
            }
        }
        if steps.is_empty() {
            return Ok(root);
        }
        Ok(match root {
            Expr::Path {
                root,
                steps: mut first,
            } => {
                first.append(&mut steps);
                Expr::Path { root, steps: first }
            }
            root => Expr::Path {
                root: Box::new(root),
                steps,
            },
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.cur();
        match t.tok {
            Tok::Param(i) => {
                self.bump();
                Ok(Expr::Param(i))
            }
            Tok::Word(Kw::Ident) => self.name_or_call(t),
            Tok::QuotedIdent { .. } => {
                self.bump();
                Ok(Expr::Var {
                    name: self.ident_text(t),
                    at_prefixed: false,
                })
            }
            Tok::At => self.at_var(),
            Tok::LParen => self.paren(),
            Tok::LBracket | Tok::LBag | Tok::LBrace => self.collection(t.tok),
            _ => self.literal(t),
        }
    }

    /// A variable, or a function call when `(` follows (the name `t` is current).
    fn name_or_call(&mut self, t: Token) -> PResult<Expr> {
        self.bump();
        if self.peek() != Tok::LParen {
            return Ok(Expr::Var {
                name: self.text(t).to_owned(),
                at_prefixed: false,
            });
        }
        self.bump();
        self.enter()?;
        let call = self.call(t)?;
        self.leave();
        Ok(call)
    }

    /// `@name` (the `@` is current).
    fn at_var(&mut self) -> PResult<Expr> {
        self.bump();
        let name = self.expect_name("a name after '@'")?;
        Ok(Expr::Var {
            name,
            at_prefixed: true,
        })
    }

    /// `( expr )` or `( SELECT … )` (the `(` is current).
    fn paren(&mut self) -> PResult<Expr> {
        self.bump();
        let e = if self.peek() == Tok::Word(Kw::Select) {
            self.subquery()?
        } else {
            self.expr()?
        };
        self.expect(Tok::RParen, "')'")?;
        Ok(e)
    }

    /// `SELECT …` as an expression (`SELECT` is current).
    fn subquery(&mut self) -> PResult<Expr> {
        self.bump();
        Ok(Expr::Subquery(Box::new(self.query()?)))
    }

    /// `[…]`, `<<…>>` or `{…}` (the opening token is current).
    fn collection(&mut self, open: Tok) -> PResult<Expr> {
        self.bump();
        self.enter()?;
        let e = match open {
            Tok::LBracket => Expr::List(self.expr_list(Tok::RBracket, "']'")?),
            Tok::LBag => Expr::Bag(self.expr_list(Tok::RBag, "'>>'")?),
            _ => self.struct_body()?,
        };
        self.leave();
        Ok(e)
    }

    /// A literal, or the error for a token that cannot start an expression.
    fn literal(&mut self, t: Token) -> PResult<Expr> {
        let e = match t.tok {
            Tok::Int => Expr::Lit(self.number(t, int_literal)?),
            Tok::Decimal => Expr::Lit(self.number(t, decimal_literal)?),
            Tok::Float => Expr::Lit(self.float_literal(t)?),
            Tok::Str { escaped } => {
                Expr::Lit(Element::string(unquote(self.text(t), escaped, "''", "'")))
            }
            Tok::Ion => Expr::Lit(self.ion_literal(t)?),
            Tok::Word(Kw::True) => Expr::Lit(Element::from(true)),
            Tok::Word(Kw::False) => Expr::Lit(Element::from(false)),
            Tok::Word(Kw::Null) => Expr::Lit(Element::null(IonType::Null)),
            Tok::Word(Kw::Missing) => Expr::Missing,
            Tok::Word(Kw::Select) => {
                return Err(self.error_at(t.start, "a subquery must be in parentheses"))
            }
            _ => return Err(self.expected_name("an expression")),
        };
        self.bump();
        Ok(e)
    }

    fn number(&self, t: Token, convert: fn(&str) -> Option<Element>) -> PResult<Element> {
        convert(self.text(t)).ok_or_else(|| self.error_at(t.start, "invalid number literal"))
    }

    fn float_literal(&self, t: Token) -> PResult<Element> {
        match self.text(t).parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Element::from(v)),
            _ => Err(self.error_at(t.start, "float literal out of range")),
        }
    }

    fn ion_literal(&self, t: Token) -> PResult<Element> {
        let text = self.text(t);
        Element::read_one(&text[1..text.len() - 1])
            .map_err(|err| self.error_at(t.start, &format!("invalid Ion literal: {err}")))
    }

    /// Comma-separated expressions up to `close` (which may come at once: empty list).
    fn expr_list(&mut self, close: Tok, close_desc: &str) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            if self.eat(close) {
                return Ok(items);
            }
            if !self.eat(Tok::Comma) {
                return Err(self.expected(&format!("',' or {close_desc}")));
            }
        }
    }

    /// After `{`.
    fn struct_body(&mut self) -> PResult<Expr> {
        let mut fields = Vec::new();
        if self.eat(Tok::RBrace) {
            return Ok(Expr::Struct(fields));
        }
        loop {
            // A bare word or quoted identifier before ':' is the field name itself.
            let key = match (self.peek(), self.peek_at(1)) {
                (Tok::Word(_) | Tok::QuotedIdent { .. }, Tok::Colon) => {
                    let t = self.bump();
                    Expr::Lit(Element::string(self.ident_text(t)))
                }
                _ => self.expr()?,
            };
            self.expect(Tok::Colon, "':' after the field name")?;
            let value = self.expr()?;
            fields.push((key, value));
            if self.eat(Tok::RBrace) {
                return Ok(Expr::Struct(fields));
            }
            if !self.eat(Tok::Comma) {
                return Err(self.expected("',' or '}'"));
            }
        }
    }

    /// A function argument: an expression, or a bare subquery (`EXISTS(SELECT …)`).
    fn arg(&mut self) -> PResult<Expr> {
        if self.peek() == Tok::Word(Kw::Select) {
            self.subquery()
        } else {
            self.expr()
        }
    }

    /// After `name(`; `name` is the token `t`. Keyword argument forms are normalised to
    /// positional arguments (see [`Expr::Call`]).
    fn call(&mut self, t: Token) -> PResult<Expr> {
        let name = self.text(t).to_ascii_lowercase();
        let args = match name.as_str() {
            "count" if self.peek() == Tok::Star && self.peek_at(1) == Tok::RParen => {
                self.bump();
                self.bump();
                return Ok(Expr::Call {
                    name,
                    args: Vec::new(),
                    star: true,
                });
            }
            "cast" => return self.cast(),
            "extract" => self.extract_args()?,
            "date_add" | "date_diff"
                if self.peek() == Tok::Word(Kw::Ident) && self.peek_at(1) == Tok::Comma =>
            {
                self.date_part_args()?
            }
            "trim" => self.trim_args()?,
            "substring" => self.substring_args()?,
            _ => self.plain_args()?,
        };
        Ok(Expr::Call {
            name,
            args,
            star: false,
        })
    }

    /// `[arg {, arg}] )`
    fn plain_args(&mut self) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        if self.eat(Tok::RParen) {
            return Ok(args);
        }
        args.push(self.arg()?);
        self.rest_args(&mut args)?;
        Ok(args)
    }

    /// `CAST(value AS type)` after `CAST(`.
    fn cast(&mut self) -> PResult<Expr> {
        let value = self.expr()?;
        self.expect_kw(Kw::As, "AS in CAST")?;
        let ty = self.cur();
        if ty.tok != Tok::Word(Kw::Ident) {
            return Err(self.expected("a type name"));
        }
        self.bump();
        self.expect(Tok::RParen, "')'")?;
        Ok(Expr::Cast {
            value: Box::new(value),
            type_name: self.text(ty).to_ascii_lowercase(),
        })
    }

    /// `part FROM value )` → `[symbol part, value]`.
    fn extract_args(&mut self) -> PResult<Vec<Expr>> {
        let part = self.cur();
        if part.tok != Tok::Word(Kw::Ident) {
            return Err(self.expected("a date part (YEAR, MONTH, DAY, …)"));
        }
        self.bump();
        self.expect_kw(Kw::From, "FROM in EXTRACT")?;
        let value = self.expr()?;
        self.expect(Tok::RParen, "')'")?;
        Ok(vec![symbol(self.text(part)), value])
    }

    /// `part, arg {, arg} )` with a bare date part → `[symbol part, arg, …]`.
    fn date_part_args(&mut self) -> PResult<Vec<Expr>> {
        let part = self.bump();
        self.bump();
        let mut args = vec![symbol(self.text(part)), self.arg()?];
        self.rest_args(&mut args)?;
        Ok(args)
    }

    /// `s FROM a [FOR b] )` or `s, a [, b] )` → `[s, a, b]`.
    fn substring_args(&mut self) -> PResult<Vec<Expr>> {
        let mut args = vec![self.expr()?];
        if self.eat_kw(Kw::From) {
            args.push(self.expr()?);
            if self.eat_word("for") {
                args.push(self.expr()?);
            }
            self.expect(Tok::RParen, "')'")?;
        } else {
            self.rest_args(&mut args)?;
        }
        Ok(args)
    }

    /// `{, arg} )`
    fn rest_args(&mut self, args: &mut Vec<Expr>) -> PResult<()> {
        loop {
            if self.eat(Tok::RParen) {
                return Ok(());
            }
            if !self.eat(Tok::Comma) {
                return Err(self.expected("',' or ')'"));
            }
            args.push(self.arg()?);
        }
    }

    /// `TRIM([LEADING|TRAILING|BOTH] [chars] FROM s)` or `TRIM(s)` after `TRIM(`, as
    /// `[symbol spec, chars|MISSING, s]`.
    fn trim_args(&mut self) -> PResult<Vec<Expr>> {
        let spec_word = ["leading", "trailing", "both"]
            .into_iter()
            .find(|w| self.at_word(w));
        let spec = match spec_word {
            // The word is the trim specification when FROM or the characters follow it;
            // otherwise it is a field that happens to have that name (`TRIM(both)`).
            Some(w)
                if matches!(
                    self.peek_at(1),
                    Tok::Word(Kw::From)
                        | Tok::Str { .. }
                        | Tok::Param(_)
                        | Tok::Ion
                        | Tok::Word(Kw::Ident)
                        | Tok::QuotedIdent { .. }
                        | Tok::At
                        | Tok::LParen
                ) =>
            {
                self.bump();
                Some(w)
            }
            _ => None,
        };
        let mut args = vec![symbol(spec.unwrap_or("both"))];
        if self.eat_kw(Kw::From) {
            args.push(Expr::Missing);
            args.push(self.expr()?);
        } else {
            let first = self.expr()?;
            if self.eat_kw(Kw::From) {
                args.push(first);
                args.push(self.expr()?);
            } else if spec.is_some() {
                return Err(self.expected("FROM in TRIM"));
            } else {
                args.push(Expr::Missing);
                args.push(first);
            }
        }
        self.expect(Tok::RParen, "')'")?;
        Ok(args)
    }
}

/// The message for a reserved word that names a feature QLDB does not support: the lexer's list
/// plus ORDER, since QLDB has no ORDER BY (results come in no particular order).
fn unsupported_feature(kw: Kw) -> Option<&'static str> {
    match kw {
        Kw::Order => Some("ORDER BY is not supported"),
        _ => kw.unsupported_feature(),
    }
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
    }
}

fn binary_op(tok: Tok) -> BinaryOp {
    match tok {
        Tok::Word(Kw::Or) => BinaryOp::Or,
        Tok::Word(Kw::And) => BinaryOp::And,
        Tok::Eq => BinaryOp::Eq,
        Tok::Ne => BinaryOp::Ne,
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        Tok::Concat => BinaryOp::Concat,
        Tok::Plus => BinaryOp::Add,
        Tok::Minus => BinaryOp::Sub,
        Tok::Star => BinaryOp::Mul,
        Tok::Slash => BinaryOp::Div,
        _ => BinaryOp::Mod,
    }
}

fn symbol(word: &str) -> Expr {
    Expr::Lit(Element::symbol(word.to_ascii_lowercase()))
}

/// The content of a quoted token (`text` includes the quotes), with doubled quotes undone.
fn unquote(text: &str, escaped: bool, doubled: &str, single: &str) -> String {
    let inner = &text[1..text.len() - 1];
    if escaped {
        inner.replace(doubled, single)
    } else {
        inner.to_owned()
    }
}

/// An unsigned integer literal (ASCII digits only) as an Ion int of any size.
fn int_literal(digits: &str) -> Option<Element> {
    if digits.len() <= 18 {
        let mut v: i64 = 0;
        for &b in digits.as_bytes() {
            v = v * 10 + i64::from(b - b'0');
        }
        return Some(Element::from(v));
    }
    if let Ok(v) = digits.parse::<u128>() {
        return Some(Element::from(v));
    }
    let trimmed = digits.trim_start_matches('0');
    // The Ion text reader accepts any decimal digit string without leading zeros.
    Element::read_one(trimmed).ok()
}

/// A decimal literal (`1.50`, `1.`, `.5`): the coefficient is every digit, the exponent minus
/// the number of digits after the point, so the written precision is kept.
fn decimal_literal(text: &str) -> Option<Element> {
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
    let exponent = -(frac_part.len() as i64);
    let mut coefficient: u128 = 0;
    let mut overflow = false;
    for &b in int_part.as_bytes().iter().chain(frac_part.as_bytes()) {
        match coefficient
            .checked_mul(10)
            .and_then(|c| c.checked_add(u128::from(b - b'0')))
        {
            Some(c) => coefficient = c,
            None => {
                overflow = true;
                break;
            }
        }
    }
    if !overflow {
        return Some(Element::from(Decimal::new(
            Coefficient::from(coefficient),
            exponent,
        )));
    }
    let mut digits = String::with_capacity(text.len() + 24);
    digits.push_str(int_part);
    digits.push_str(frac_part);
    let trimmed = digits.trim_start_matches('0');
    let ion = format!("{trimmed}d{exponent}");
    Element::read_one(ion).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ion_rs::IonData;

    // ----- helpers ------------------------------------------------------------------------

    fn ok(text: &str) -> ParsedStatement {
        parse(text).unwrap_or_else(|e| panic!("{text:?} failed: {e}"))
    }

    fn stmt(text: &str) -> Statement {
        ok(text).statement
    }

    fn query(text: &str) -> Query {
        match stmt(text) {
            Statement::Select(q) => q,
            other => panic!("{text:?} is not a SELECT: {other:?}"),
        }
    }

    /// Parses `SELECT VALUE <e> FROM T` and returns `<e>`.
    fn expr(e: &str) -> Expr {
        match query(&format!("SELECT VALUE {e} FROM T")).projection {
            Projection::Value(v) => v,
            other => panic!("{other:?}"),
        }
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(p) => panic!("{text:?} parsed: {p:?}"),
            Err(e) => e.message,
        }
    }

    fn assert_err(text: &str, needle: &str) {
        let m = err(text);
        assert!(
            m.contains(needle),
            "{text:?}: {m:?} does not contain {needle:?}"
        );
    }

    fn var(name: &str) -> Expr {
        Expr::Var {
            name: name.into(),
            at_prefixed: false,
        }
    }

    fn at_var(name: &str) -> Expr {
        Expr::Var {
            name: name.into(),
            at_prefixed: true,
        }
    }

    fn int(v: i64) -> Expr {
        Expr::Lit(Element::from(v))
    }

    fn s(v: &str) -> Expr {
        Expr::Lit(Element::string(v))
    }

    fn sym(v: &str) -> Expr {
        Expr::Lit(Element::symbol(v))
    }

    fn ion(text: &str) -> Expr {
        Expr::Lit(Element::read_one(text).unwrap())
    }

    fn p(i: usize) -> Expr {
        Expr::Param(i)
    }

    fn field(f: &str) -> PathStep {
        PathStep::Field(f.into())
    }

    fn idx(e: Expr) -> PathStep {
        PathStep::Index(Box::new(e))
    }

    fn path(root: Expr, steps: Vec<PathStep>) -> Expr {
        Expr::Path {
            root: Box::new(root),
            steps,
        }
    }

    /// `a.b.c` from "a.b.c".
    fn dotted(text: &str) -> Expr {
        let mut parts = text.split('.');
        let root = var(parts.next().unwrap());
        let steps: Vec<_> = parts.map(field).collect();
        if steps.is_empty() {
            root
        } else {
            path(root, steps)
        }
    }

    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        binary(op, l, r)
    }

    fn eq(l: Expr, r: Expr) -> Expr {
        bin(BinaryOp::Eq, l, r)
    }

    fn un(op: UnaryOp, e: Expr) -> Expr {
        Expr::Unary {
            op,
            operand: Box::new(e),
        }
    }

    fn call(name: &str, args: Vec<Expr>) -> Expr {
        Expr::Call {
            name: name.into(),
            args,
            star: false,
        }
    }

    fn item(source: Expr, alias: Option<&str>) -> FromItem {
        FromItem {
            source,
            alias: alias.map(Into::into),
            at: None,
            by: None,
            on: None,
        }
    }

    fn target(table: &str, alias: Option<&str>, by: Option<&str>) -> DmlTarget {
        DmlTarget {
            table: table.into(),
            alias: alias.map(Into::into),
            by: by.map(Into::into),
        }
    }

    fn proj(e: Expr, alias: Option<&str>) -> ProjItem {
        ProjItem::Expr {
            expr: e,
            alias: alias.map(Into::into),
        }
    }

    // ----- SELECT: spec examples -----------------------------------------------------------

    #[test]
    fn select_star_with_param() {
        let parsed = ok("SELECT * FROM Vehicle AS v WHERE v.VIN = ?");
        assert_eq!(parsed.param_count, 1);
        assert_eq!(
            parsed.statement,
            Statement::Select(Query {
                projection: Projection::Star,
                from: vec![item(var("Vehicle"), Some("v"))],
                where_: Some(eq(dotted("v.VIN"), p(0))),
            })
        );
    }

    #[test]
    fn select_by_binding() {
        let q = query("SELECT r_id FROM T AS r BY r_id WHERE r.Name = 'x'");
        assert_eq!(
            q.projection,
            Projection::Items(vec![proj(var("r_id"), None)])
        );
        assert_eq!(
            q.from,
            vec![FromItem {
                source: var("T"),
                alias: Some("r".into()),
                at: None,
                by: Some("r_id".into()),
                on: None,
            }]
        );
        assert_eq!(q.where_, Some(eq(dotted("r.Name"), s("x"))));
    }

    #[test]
    fn select_value_from_information_schema() {
        let q =
            query("SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'");
        assert_eq!(q.projection, Projection::Value(var("name")));
        assert_eq!(
            q.from,
            vec![item(dotted("information_schema.user_tables"), None)]
        );
        assert_eq!(q.where_, Some(eq(var("status"), s("ACTIVE"))));
    }

    #[test]
    fn select_name_from_information_schema() {
        let q = query("SELECT name FROM information_schema.user_tables WHERE status = 'ACTIVE'");
        assert_eq!(
            q.projection,
            Projection::Items(vec![proj(var("name"), None)])
        );
    }

    #[test]
    fn select_value_index_step() {
        let q = query(
            "SELECT VALUE indexes[0] FROM information_schema.user_tables \
             WHERE status = 'ACTIVE' AND name = 'T'",
        );
        assert_eq!(
            q.projection,
            Projection::Value(path(var("indexes"), vec![idx(int(0))]))
        );
        assert_eq!(
            q.where_,
            Some(bin(
                BinaryOp::And,
                eq(var("status"), s("ACTIVE")),
                eq(var("name"), s("T"))
            ))
        );
    }

    #[test]
    fn select_from_history() {
        let parsed = ok("SELECT * FROM history(Person, `2019-06-05T00:00:00Z`, \
                         `2019-06-06T00:00:00Z`) AS h WHERE h.metadata.id = ?");
        assert_eq!(parsed.param_count, 1);
        let Statement::Select(q) = parsed.statement else {
            panic!()
        };
        assert_eq!(
            q.from,
            vec![item(
                call(
                    "history",
                    vec![
                        var("Person"),
                        ion("2019-06-05T00:00:00Z"),
                        ion("2019-06-06T00:00:00Z")
                    ]
                ),
                Some("h")
            )]
        );
        assert_eq!(q.where_, Some(eq(dotted("h.metadata.id"), p(0))));
    }

    #[test]
    fn select_from_history_by_table_id() {
        let q = query("SELECT * FROM history('5PLf9SXwndd63lPaSIa0O6') AS h");
        assert_eq!(
            q.from,
            vec![item(
                call("history", vec![s("5PLf9SXwndd63lPaSIa0O6")]),
                Some("h")
            )]
        );
        let q = query("select * from HISTORY(T)");
        assert_eq!(q.from, vec![item(call("history", vec![var("T")]), None)]);
    }

    #[test]
    fn select_from_committed_view() {
        let q = query("SELECT * FROM _ql_committed_Person WHERE data.Name = ?");
        assert_eq!(q.from, vec![item(var("_ql_committed_Person"), None)]);
        assert_eq!(q.where_, Some(eq(dotted("data.Name"), p(0))));
    }

    #[test]
    fn select_count_star() {
        let q = query("SELECT COUNT(*) FROM T");
        assert_eq!(
            q.projection,
            Projection::Items(vec![proj(
                Expr::Call {
                    name: "count".into(),
                    args: vec![],
                    star: true
                },
                None
            )])
        );
        let q = query("SELECT count( * ) AS n FROM T");
        assert!(matches!(
            &q.projection,
            Projection::Items(items) if matches!(&items[0],
                ProjItem::Expr { expr: Expr::Call { star: true, .. }, alias: Some(a) } if a == "n")
        ));
    }

    #[test]
    fn select_txid_from_bag() {
        let q = query("SELECT TXID() FROM << 0 >>");
        assert_eq!(
            q.projection,
            Projection::Items(vec![proj(call("txid", vec![]), None)])
        );
        assert_eq!(q.from, vec![item(Expr::Bag(vec![int(0)]), None)]);
    }

    #[test]
    fn select_three_way_self_join() {
        let q = query("SELECT * FROM t AS a, t AS b, t AS c");
        assert_eq!(
            q.from,
            vec![
                item(var("t"), Some("a")),
                item(var("t"), Some("b")),
                item(var("t"), Some("c"))
            ]
        );
    }

    #[test]
    fn select_unnest() {
        let q = query("SELECT o.name FROM Person AS p, p.Owners AS o");
        assert_eq!(
            q.projection,
            Projection::Items(vec![proj(dotted("o.name"), None)])
        );
        assert_eq!(
            q.from,
            vec![
                item(var("Person"), Some("p")),
                item(dotted("p.Owners"), Some("o"))
            ]
        );
        let q = query("SELECT * FROM Person AS p, @p.Owners AS o");
        assert_eq!(q.from[1].source, path(at_var("p"), vec![field("Owners")]));
    }

    #[test]
    fn string_followed_by_keyword() {
        let parsed = ok("SELECT * FROM T WHERE status = 'ACTIVE'AND name = ?");
        assert_eq!(parsed.param_count, 1);
        let Statement::Select(q) = parsed.statement else {
            panic!()
        };
        assert_eq!(
            q.where_,
            Some(bin(
                BinaryOp::And,
                eq(var("status"), s("ACTIVE")),
                eq(var("name"), p(0))
            ))
        );
    }

    #[test]
    fn aliases_without_as() {
        let q = query("SELECT x.a y, x.b AS \"Z\" FROM T x WHERE x.a = 1");
        assert_eq!(
            q.projection,
            Projection::Items(vec![
                proj(dotted("x.a"), Some("y")),
                proj(dotted("x.b"), Some("Z"))
            ])
        );
        assert_eq!(q.from, vec![item(var("T"), Some("x"))]);
    }

    #[test]
    fn at_and_by() {
        let q = query("SELECT * FROM T AS t BY tid, t.list AS e AT i");
        assert_eq!(q.from[0].by.as_deref(), Some("tid"));
        assert_eq!(q.from[1].alias.as_deref(), Some("e"));
        assert_eq!(q.from[1].at.as_deref(), Some("i"));
        let q = query("SELECT * FROM T t AT i BY d");
        assert_eq!(q.from[0].at.as_deref(), Some("i"));
        assert_eq!(q.from[0].by.as_deref(), Some("d"));
    }

    #[test]
    fn projection_forms() {
        let q = query("SELECT a, b.c AS x, t.*, 1 + 2, t.l[*].n FROM T AS t");
        assert_eq!(
            q.projection,
            Projection::Items(vec![
                proj(var("a"), None),
                proj(dotted("b.c"), Some("x")),
                ProjItem::AllFields(var("t")),
                proj(bin(BinaryOp::Add, int(1), int(2)), None),
                proj(
                    path(var("t"), vec![field("l"), PathStep::Wildcard, field("n")]),
                    None
                ),
            ])
        );
        let q = query("SELECT t.a.* FROM T AS t");
        assert_eq!(
            q.projection,
            Projection::Items(vec![ProjItem::AllFields(dotted("t.a"))])
        );
        assert_err(
            "SELECT (1 + 2).* FROM T",
            "'.*' must follow a name or a path",
        );
        assert_err(
            "SELECT * FROM T WHERE t.* = 1",
            "expected end of statement, found '.'",
        );
    }

    #[test]
    fn joins() {
        let q = query("SELECT * FROM A AS a INNER JOIN B AS b ON a.id = b.id JOIN C c ON c.x = a.x CROSS JOIN D");
        assert_eq!(q.from.len(), 4);
        assert_eq!(q.from[0].on, None);
        assert_eq!(q.from[1].on, Some(eq(dotted("a.id"), dotted("b.id"))));
        assert_eq!(q.from[2].alias.as_deref(), Some("c"));
        assert_eq!(q.from[2].on, Some(eq(dotted("c.x"), dotted("a.x"))));
        assert_eq!(q.from[3], item(var("D"), None));
        let q = query("SELECT * FROM A, B WHERE A.x = B.x");
        assert_eq!(q.from.len(), 2);
    }

    #[test]
    fn subqueries() {
        let q = query("SELECT * FROM (SELECT VALUE x FROM T) AS s");
        assert!(matches!(q.from[0].source, Expr::Subquery(_)));
        let q = query("SELECT * FROM T WHERE EXISTS(SELECT * FROM U WHERE U.a = T.a)");
        match q.where_ {
            Some(Expr::Call {
                name,
                args,
                star: false,
            }) => {
                assert_eq!(name, "exists");
                assert!(matches!(args.as_slice(), [Expr::Subquery(_)]));
            }
            other => panic!("{other:?}"),
        }
        let q = query("SELECT * FROM T WHERE exists((SELECT * FROM U))");
        assert!(
            matches!(q.where_, Some(Expr::Call { ref args, .. }) if matches!(args[0], Expr::Subquery(_)))
        );
        let q = query("SELECT * FROM T WHERE a IN (SELECT VALUE b FROM U)");
        assert!(
            matches!(q.where_, Some(Expr::In { ref list, .. }) if matches!(**list, Expr::Subquery(_)))
        );
    }

    #[test]
    fn order_by_is_rejected_wherever_it_appears() {
        // QLDB has no ORDER BY: results come in no particular order.
        for text in [
            "SELECT * FROM T ORDER BY a",
            "SELECT * FROM T ORDER BY a, b DESC, c asc",
            "SELECT * FROM T WHERE x = 1 ORDER BY t.a",
            "SELECT VALUE a FROM T AS t ORDER BY a",
            "SELECT * FROM T ORDER a",
            "SELECT * FROM T WHERE ORDER BY a",
            "SELECT * FROM T WHERE a IN (SELECT VALUE b FROM U ORDER BY b)",
            "SELECT * FROM A INNER JOIN B ON A.x = B.x ORDER BY A.x",
            "SELECT * FROM history(T) AS h ORDER BY h.metadata.version",
            "UPDATE T SET a = 1 WHERE b = 2 ORDER BY a",
            "DELETE FROM T AS t WHERE t.a = 1 ORDER BY t.a",
            "FROM T AS t WHERE t.a = 1 SET t.b = 2 ORDER BY t.a",
            "ORDER BY a",
        ] {
            assert_err(text, "ORDER BY is not supported");
        }
        // A bare ORDER where a name is expected is a reserved word, not the clause.
        assert_err("SELECT * FROM Order", "must be double-quoted");
        ok(r#"SELECT "order" FROM "Order" AS o WHERE o."order" = 1"#);
    }

    #[test]
    fn quoted_identifiers() {
        let q = query(r#"SELECT "a""b" FROM "T" AS "t" WHERE "t"."Na me" = 1"#);
        assert_eq!(
            q.projection,
            Projection::Items(vec![proj(var("a\"b"), None)])
        );
        assert_eq!(q.from, vec![item(var("T"), Some("t"))]);
        assert_eq!(
            q.where_,
            Some(eq(path(var("t"), vec![field("Na me")]), int(1)))
        );
        // Quoted words and keywords after a dot are field names, case kept.
        assert_eq!(expr("x.\"SELECT\""), path(var("x"), vec![field("SELECT")]));
        assert_eq!(
            expr("x.Value.order"),
            path(var("x"), vec![field("Value"), field("order")])
        );
        assert_eq!(expr("\"from\""), var("from"));
    }

    #[test]
    fn identifiers_are_case_sensitive_keywords_are_not() {
        let q = query("sElEcT VaLuE Name fRoM Person wHeRe Name = ?");
        assert_eq!(q.projection, Projection::Value(var("Name")));
        assert_eq!(q.from, vec![item(var("Person"), None)]);
    }

    #[test]
    fn trailing_semicolon_and_comments() {
        ok("SELECT * FROM T;");
        ok("SELECT * FROM T ;  -- done");
        let q = query("/* lead */ SELECT -- c\n * FROM /* x */ T WHERE a = 1 -- trailing");
        assert_eq!(q.from, vec![item(var("T"), None)]);
        assert_err("SELECT * FROM T; SELECT * FROM U", "only one statement");
        assert_err("SELECT * FROM T;;", "only one statement");
    }

    // ----- expressions --------------------------------------------------------------------

    #[test]
    fn literals() {
        assert_eq!(expr("123"), int(123));
        assert_eq!(expr("'it''s'"), s("it's"));
        assert_eq!(expr("''"), s(""));
        assert_eq!(expr("true"), Expr::Lit(Element::from(true)));
        assert_eq!(expr("FALSE"), Expr::Lit(Element::from(false)));
        assert_eq!(expr("null"), Expr::Lit(Element::null(IonType::Null)));
        assert_eq!(expr("MISSING"), Expr::Missing);
        assert_eq!(expr("`{a: 1, b: \"x\"}`"), ion("{a: 1, b: \"x\"}"));
        assert_eq!(expr("`null.int`"), ion("null.int"));
        assert_eq!(expr("`'sym'`"), ion("'sym'"));
        assert_eq!(expr("`2019-06-05T`"), ion("2019-06-05T"));
        assert_eq!(expr("'\\'"), s("\\"));
    }

    #[test]
    fn integers_of_any_size() {
        assert_eq!(expr("0"), int(0));
        assert_eq!(expr("007"), int(7));
        assert_eq!(expr("9223372036854775807"), int(i64::MAX));
        let big = "123456789012345678901234567890123456789012345";
        let Expr::Lit(e) = expr(big) else { panic!() };
        assert_eq!(e, Element::read_one(big).unwrap());
        assert_eq!(e.ion_type(), IonType::Int);
        let Expr::Lit(e) = expr("18446744073709551616") else {
            panic!()
        };
        assert_eq!(e, Element::read_one("18446744073709551616").unwrap());
        let Expr::Lit(e) = expr("000123456789012345678901234567890123456789012345") else {
            panic!()
        };
        assert_eq!(e, Element::read_one(big).unwrap());
    }

    fn assert_decimal(text: &str, ion_text: &str) {
        let Expr::Lit(e) = expr(text) else {
            panic!("{text}")
        };
        let want = Element::read_one(ion_text).unwrap();
        assert_eq!(e.ion_type(), IonType::Decimal, "{text}");
        assert!(
            IonData::from(&e) == IonData::from(&want),
            "{text}: {e:?} != {want:?}"
        );
    }

    #[test]
    fn decimals_keep_precision() {
        assert_decimal("1.50", "1.50");
        assert_decimal("1.", "1d0");
        assert_decimal(".5", "0.5");
        assert_decimal("0.00", "0.00");
        assert_decimal("00.10", "0.10");
        assert_decimal(
            "123456789012345678901234567890.123456789012345",
            "123456789012345678901234567890.123456789012345",
        );
        let Expr::Lit(e) = expr("1.50") else { panic!() };
        let d = e.as_decimal().unwrap();
        assert_eq!(d.exponent(), -2);
        // 1.5 and 1.50 are different Ion data.
        assert!(IonData::from(&e) != IonData::from(&Element::read_one("1.5").unwrap()));
    }

    #[test]
    fn floats() {
        for (text, v) in [
            ("1.5e0", 1.5),
            ("1e3", 1000.0),
            ("2E-1", 0.2),
            (".5e1", 5.0),
            ("1.e2", 100.0),
        ] {
            assert_eq!(expr(text), Expr::Lit(Element::from(v)), "{text}");
        }
        assert_err("SELECT VALUE 1e999 FROM T", "float literal out of range");
    }

    #[test]
    fn unary_minus_is_an_operator() {
        assert_eq!(expr("-7"), un(UnaryOp::Neg, int(7)));
        assert_eq!(expr("+ 7"), un(UnaryOp::Pos, int(7)));
        assert_eq!(expr("- -a"), un(UnaryOp::Neg, un(UnaryOp::Neg, var("a"))));
        assert_eq!(
            expr("-a.b"),
            un(UnaryOp::Neg, dotted("a.b")),
            "path binds tighter than unary minus"
        );
        assert_eq!(expr("1-2"), bin(BinaryOp::Sub, int(1), int(2)));
    }

    #[test]
    fn precedence() {
        use BinaryOp::*;
        assert_eq!(
            expr("1 + 2 * 3"),
            bin(Add, int(1), bin(Mul, int(2), int(3)))
        );
        assert_eq!(
            expr("1 - 2 - 3"),
            bin(Sub, bin(Sub, int(1), int(2)), int(3))
        );
        assert_eq!(
            expr("(1 + 2) % 3 / 4"),
            bin(Div, bin(Mod, bin(Add, int(1), int(2)), int(3)), int(4))
        );
        assert_eq!(
            expr("a || b + 1"),
            bin(Concat, var("a"), bin(Add, var("b"), int(1)))
        );
        assert_eq!(
            expr("a || b = c"),
            eq(bin(Concat, var("a"), var("b")), var("c"))
        );
        assert_eq!(
            expr("a = 1 OR b = 2 AND c = 3"),
            bin(
                Or,
                eq(var("a"), int(1)),
                bin(And, eq(var("b"), int(2)), eq(var("c"), int(3)))
            )
        );
        assert_eq!(
            expr("NOT a = 1 AND b"),
            bin(And, un(UnaryOp::Not, eq(var("a"), int(1))), var("b"))
        );
        assert_eq!(
            expr("NOT NOT a"),
            un(UnaryOp::Not, un(UnaryOp::Not, var("a")))
        );
        assert_eq!(expr("-2 * 3"), bin(Mul, un(UnaryOp::Neg, int(2)), int(3)));
        for (text, op) in [
            ("a = b", Eq),
            ("a <> b", Ne),
            ("a != b", Ne),
            ("a < b", Lt),
            ("a <= b", Le),
            ("a > b", Gt),
            ("a >= b", Ge),
        ] {
            assert_eq!(expr(text), bin(op, var("a"), var("b")), "{text}");
        }
    }

    #[test]
    fn like_with_escape() {
        assert_eq!(
            expr(r"'x' LIKE 'a%' ESCAPE '\'"),
            Expr::Like {
                value: Box::new(s("x")),
                pattern: Box::new(s("a%")),
                escape: Some(Box::new(s("\\"))),
                negated: false,
            }
        );
        assert_eq!(
            expr("name NOT LIKE ?"),
            Expr::Like {
                value: Box::new(var("name")),
                pattern: Box::new(p(0)),
                escape: None,
                negated: true,
            }
        );
    }

    #[test]
    fn in_forms() {
        assert_eq!(
            expr("a NOT IN (1,2)"),
            Expr::In {
                value: Box::new(var("a")),
                list: Box::new(Expr::List(vec![int(1), int(2)])),
                negated: true,
            }
        );
        assert_eq!(
            expr("a IN (1, 2, ?)"),
            Expr::In {
                value: Box::new(var("a")),
                list: Box::new(Expr::List(vec![int(1), int(2), p(0)])),
                negated: false,
            }
        );
        assert_eq!(
            expr("a IN (1)"),
            Expr::In {
                value: Box::new(var("a")),
                list: Box::new(Expr::List(vec![int(1)])),
                negated: false,
            }
        );
        assert_eq!(
            expr("a IN ?"),
            Expr::In {
                value: Box::new(var("a")),
                list: Box::new(p(0)),
                negated: false,
            }
        );
        assert_eq!(
            expr("a IN [1, 'x']"),
            Expr::In {
                value: Box::new(var("a")),
                list: Box::new(Expr::List(vec![int(1), s("x")])),
                negated: false,
            }
        );
        assert_eq!(
            expr("a IN t.l AND b"),
            bin(
                BinaryOp::And,
                Expr::In {
                    value: Box::new(var("a")),
                    list: Box::new(dotted("t.l")),
                    negated: false,
                },
                var("b")
            )
        );
        assert_err(
            "SELECT * FROM T WHERE a IN ()",
            "expected an expression in the IN list",
        );
    }

    #[test]
    fn between() {
        assert_eq!(
            expr("a BETWEEN 1 AND 2 AND b"),
            bin(
                BinaryOp::And,
                Expr::Between {
                    value: Box::new(var("a")),
                    low: Box::new(int(1)),
                    high: Box::new(int(2)),
                    negated: false,
                },
                var("b")
            )
        );
        assert_eq!(
            expr("a NOT BETWEEN ? AND ? + 1"),
            Expr::Between {
                value: Box::new(var("a")),
                low: Box::new(p(0)),
                high: Box::new(bin(BinaryOp::Add, p(1), int(1))),
                negated: true,
            }
        );
        assert_err(
            "SELECT * FROM T WHERE a BETWEEN 1 OR 2",
            "expected AND in BETWEEN",
        );
    }

    #[test]
    fn is_tests() {
        let is = |v: Expr, test: IsTest, negated: bool| Expr::Is {
            value: Box::new(v),
            test,
            negated,
        };
        assert_eq!(
            expr("x IS NOT MISSING"),
            is(var("x"), IsTest::Missing, true)
        );
        assert_eq!(expr("x IS NULL"), is(var("x"), IsTest::Null, false));
        assert_eq!(expr("x is not null"), is(var("x"), IsTest::Null, true));
        assert_eq!(
            expr("x.y IS INT"),
            is(dotted("x.y"), IsTest::Type("int".into()), false)
        );
        assert_eq!(
            expr("x IS NOT Struct"),
            is(var("x"), IsTest::Type("struct".into()), true)
        );
        assert_eq!(
            expr("NOT x IS MISSING"),
            un(UnaryOp::Not, is(var("x"), IsTest::Missing, false))
        );
        assert_err(
            "SELECT * FROM T WHERE x IS 1",
            "expected NULL, MISSING or a type name",
        );
    }

    #[test]
    fn paths() {
        assert_eq!(
            expr("a.b[0].\"C\"['d'][*][?]"),
            path(
                var("a"),
                vec![
                    field("b"),
                    idx(int(0)),
                    field("C"),
                    idx(s("d")),
                    PathStep::Wildcard,
                    idx(p(0))
                ]
            )
        );
        assert_eq!(expr("@p.x"), path(at_var("p"), vec![field("x")]));
        assert_eq!(expr("@\"P\""), at_var("P"));
        assert_eq!(expr("(a.b).c"), dotted("a.b.c"));
        assert_eq!(
            expr("f(x).y"),
            path(call("f", vec![var("x")]), vec![field("y")])
        );
        assert_eq!(
            expr("[1, 2][0]"),
            path(Expr::List(vec![int(1), int(2)]), vec![idx(int(0))])
        );
        assert_err("SELECT VALUE a.1 FROM T", "expected a field name after '.'");
        assert_err("SELECT VALUE a. FROM T", "expected FROM, found 'T'");
        assert_err("SELECT VALUE a[1 FROM T", "expected ']'");
    }

    #[test]
    fn constructors() {
        assert_eq!(
            expr("{'a': 1, b: 2, \"C\": ?, 'd' || 'e': [1, <<2>>], value: {}}"),
            Expr::Struct(vec![
                (s("a"), int(1)),
                (s("b"), int(2)),
                (s("C"), p(0)),
                (
                    bin(BinaryOp::Concat, s("d"), s("e")),
                    Expr::List(vec![int(1), Expr::Bag(vec![int(2)])])
                ),
                (s("value"), Expr::Struct(vec![])),
            ])
        );
        assert_eq!(expr("[]"), Expr::List(vec![]));
        assert_eq!(expr("<<>>"), Expr::Bag(vec![]));
        assert_eq!(expr("<< 1, 'a' >>"), Expr::Bag(vec![int(1), s("a")]));
        assert_eq!(
            expr("{x.y: 1}"),
            Expr::Struct(vec![(dotted("x.y"), int(1))])
        );
        assert_err(
            "SELECT VALUE {'a' 1} FROM T",
            "expected ':' after the field name",
        );
        assert_err("SELECT VALUE {'a': 1 'b': 2} FROM T", "expected ',' or '}'");
        assert_err("SELECT VALUE [1 2] FROM T", "expected ',' or ']'");
        assert_err("SELECT VALUE [1, 2 FROM T", "expected ',' or ']'");
    }

    #[test]
    fn function_calls() {
        assert_eq!(expr("UTCNOW()"), call("utcnow", vec![]));
        assert_eq!(expr("Size(a.b)"), call("size", vec![dotted("a.b")]));
        assert_eq!(
            expr("COALESCE(a, null, 1)"),
            call(
                "coalesce",
                vec![var("a"), Expr::Lit(Element::null(IonType::Null)), int(1)]
            )
        );
        assert_eq!(
            expr("upper(lower('A'))"),
            call("upper", vec![call("lower", vec![s("A")])])
        );
        assert_eq!(expr("NULLIF(a, ?)"), call("nullif", vec![var("a"), p(0)]));
        assert_eq!(
            expr("to_string(`2019T`, 'yyyy')"),
            call("to_string", vec![ion("2019T"), s("yyyy")])
        );
        assert_err("SELECT VALUE f(a b) FROM T", "expected ',' or ')'");
        assert_err("SELECT VALUE f(a, ) FROM T", "expected an expression");
        assert_err(
            "SELECT VALUE sum(*) FROM T",
            "expected an expression, found '*'",
        );
        assert_err(
            "SELECT COUNT(DISTINCT a) FROM T",
            "DISTINCT is not supported",
        );
    }

    #[test]
    fn cast() {
        assert_eq!(
            expr("CAST(x AS INT)"),
            Expr::Cast {
                value: Box::new(var("x")),
                type_name: "int".into()
            }
        );
        assert_eq!(
            expr("cast('1.5' as Decimal)"),
            Expr::Cast {
                value: Box::new(s("1.5")),
                type_name: "decimal".into()
            }
        );
        assert_err("SELECT VALUE CAST(x INT) FROM T", "expected AS in CAST");
        assert_err("SELECT VALUE CAST(x AS 1) FROM T", "expected a type name");
    }

    #[test]
    fn date_functions() {
        assert_eq!(
            expr("DATE_ADD(month, 1, `2010T`)"),
            call("date_add", vec![sym("month"), int(1), ion("2010T")])
        );
        assert_eq!(
            expr("date_diff(DAY, a, b)"),
            call("date_diff", vec![sym("day"), var("a"), var("b")])
        );
        assert_eq!(
            expr("EXTRACT(YEAR FROM ts)"),
            call("extract", vec![sym("year"), var("ts")])
        );
        assert_eq!(
            expr("extract(timezone_hour from `2010T`)"),
            call("extract", vec![sym("timezone_hour"), ion("2010T")])
        );
        assert_err(
            "SELECT VALUE EXTRACT(YEAR ts) FROM T",
            "expected FROM in EXTRACT",
        );
    }

    #[test]
    fn trim_forms() {
        let trim = |spec: &str, chars: Expr, v: Expr| call("trim", vec![sym(spec), chars, v]);
        assert_eq!(expr("TRIM(s)"), trim("both", Expr::Missing, var("s")));
        assert_eq!(
            expr("TRIM(LEADING FROM s)"),
            trim("leading", Expr::Missing, var("s"))
        );
        assert_eq!(
            expr("trim(trailing 'x' FROM s)"),
            trim("trailing", s("x"), var("s"))
        );
        assert_eq!(
            expr("TRIM(BOTH ? FROM ' a ')"),
            trim("both", p(0), s(" a "))
        );
        assert_eq!(expr("TRIM('x' FROM s)"), trim("both", s("x"), var("s")));
        assert_eq!(expr("TRIM(FROM s)"), trim("both", Expr::Missing, var("s")));
        // A field that happens to be called `both`.
        assert_eq!(expr("TRIM(both)"), trim("both", Expr::Missing, var("both")));
        assert_eq!(
            expr("TRIM(leading || 'x')"),
            trim(
                "both",
                Expr::Missing,
                bin(BinaryOp::Concat, var("leading"), s("x"))
            )
        );
        assert_err(
            "SELECT VALUE TRIM(LEADING 'x' s) FROM T",
            "expected FROM in TRIM",
        );
    }

    #[test]
    fn substring_forms() {
        assert_eq!(
            expr("SUBSTRING(s FROM 2 FOR 3)"),
            call("substring", vec![var("s"), int(2), int(3)])
        );
        assert_eq!(
            expr("substring(s from 2)"),
            call("substring", vec![var("s"), int(2)])
        );
        assert_eq!(
            expr("SUBSTRING(s, 2, 3)"),
            call("substring", vec![var("s"), int(2), int(3)])
        );
        assert_eq!(
            expr("SUBSTRING(s, 2)"),
            call("substring", vec![var("s"), int(2)])
        );
    }

    #[test]
    fn parameters_numbered_in_order() {
        let parsed = ok("SELECT * FROM T WHERE a = ? AND b IN ('?', \"?\", `\"?\"`, ?) AND c = ?");
        assert_eq!(parsed.param_count, 3);
        let Statement::Select(q) = parsed.statement else {
            panic!()
        };
        let w = format!("{:?}", q.where_);
        assert!(w.contains("Param(0)") && w.contains("Param(1)") && w.contains("Param(2)"));
        assert!(!w.contains("Param(3)"));
        assert_eq!(ok("SELECT * FROM T").param_count, 0);
    }

    // ----- DDL ----------------------------------------------------------------------------

    #[test]
    fn create_table() {
        assert_eq!(
            stmt("CREATE TABLE Person"),
            Statement::CreateTable {
                name: "Person".into(),
                tags: None
            }
        );
        assert_eq!(
            stmt("create table \"My Table\";"),
            Statement::CreateTable {
                name: "My Table".into(),
                tags: None
            }
        );
        assert_eq!(
            stmt("CREATE TABLE T WITH (aws_tags = `{'k':'v'}`)"),
            Statement::CreateTable {
                name: "T".into(),
                tags: Some(ion("{'k':'v'}"))
            }
        );
        assert_eq!(
            stmt("CREATE TABLE T WITH (aws_tags = ?)"),
            Statement::CreateTable {
                name: "T".into(),
                tags: Some(p(0))
            }
        );
        assert_err(
            "CREATE TABLE",
            "expected a table name after CREATE TABLE, found end of input",
        );
        assert_err("CREATE TABLE Order", "must be double-quoted");
        assert_err("CREATE TABLE T WITH (tags = `{}`)", "expected aws_tags");
        assert_err("CREATE TABLE T WITH (aws_tags = `{}`", "expected ')'");
        assert_err("CREATE TABLES T", "expected TABLE or INDEX after CREATE");
    }

    #[test]
    fn drop_and_undrop_table() {
        assert_eq!(
            stmt("DROP TABLE Person"),
            Statement::DropTable {
                name: "Person".into()
            }
        );
        assert_eq!(
            stmt("UNDROP TABLE \"5PLf9SXwndd63lPaSIa0O6\""),
            Statement::UndropTable {
                table_id: "5PLf9SXwndd63lPaSIa0O6".into()
            }
        );
        assert_err("DROP TABLE", "expected a table name");
        assert_err("UNDROP T", "expected TABLE after UNDROP");
    }

    #[test]
    fn create_index() {
        assert_eq!(
            stmt("CREATE INDEX ON Person (GovId)"),
            Statement::CreateIndex {
                table: "Person".into(),
                field: "GovId".into()
            }
        );
        assert_eq!(
            stmt("create index on \"T\" (\"Name Q\")"),
            Statement::CreateIndex {
                table: "T".into(),
                field: "Name Q".into()
            }
        );
        assert_err("CREATE INDEX ON T (a, b)", "exactly one field");
        assert_err("CREATE INDEX ON T (a.b)", "only a top-level field");
        assert_err("CREATE INDEX ON T ()", "expected the field to index");
        assert_err(
            "CREATE INDEX idx ON T (a)",
            "expected ON after CREATE INDEX, found 'idx'",
        );
        assert_err("CREATE INDEX ON T a", "expected '(' and the field to index");
    }

    #[test]
    fn drop_index() {
        assert_eq!(
            stmt("DROP INDEX \"4tPW3fUhaVhDinRgKRLhGU\" ON Person WITH (purge = true)"),
            Statement::DropIndex {
                index_id: "4tPW3fUhaVhDinRgKRLhGU".into(),
                table: "Person".into()
            }
        );
        ok("drop index \"x\" on T with (purge = TRUE)");
        assert_err(
            "DROP INDEX \"x\" ON T",
            "DROP INDEX requires WITH (purge = true)",
        );
        assert_err(
            "DROP INDEX \"x\" ON T WITH (PURGE = true)",
            "'purge' must be written in lowercase",
        );
        assert_err(
            "DROP INDEX \"x\" ON T WITH (purge = false)",
            "requires WITH (purge = true)",
        );
        assert_err(
            "DROP INDEX \"x\" ON T WITH (other = true)",
            "requires WITH (purge = true)",
        );
    }

    // ----- DML ----------------------------------------------------------------------------

    #[test]
    fn insert_forms() {
        assert_eq!(
            stmt("INSERT INTO Person VALUE {'Name': 'Bob', 'Age': 3}"),
            Statement::Insert {
                table: "Person".into(),
                value: Expr::Struct(vec![(s("Name"), s("Bob")), (s("Age"), int(3))]),
                single: true
            }
        );
        assert_eq!(
            stmt("INSERT INTO T VALUE ?"),
            Statement::Insert {
                table: "T".into(),
                value: p(0),
                single: true
            }
        );
        let parsed = ok("INSERT INTO T <<?, ?>>");
        assert_eq!(parsed.param_count, 2);
        assert_eq!(
            parsed.statement,
            Statement::Insert {
                table: "T".into(),
                value: Expr::Bag(vec![p(0), p(1)]),
                single: false
            }
        );
        assert_eq!(
            stmt("INSERT INTO T ?"),
            Statement::Insert {
                table: "T".into(),
                value: p(0),
                single: false
            }
        );
        assert_eq!(
            stmt("INSERT INTO T `[{a: 1}, {a: 2}]`"),
            Statement::Insert {
                table: "T".into(),
                value: ion("[{a: 1}, {a: 2}]"),
                single: false
            }
        );
        assert_eq!(
            stmt("insert into T << {'a': 1}, {'a': UTCNOW()} >>"),
            Statement::Insert {
                table: "T".into(),
                value: Expr::Bag(vec![
                    Expr::Struct(vec![(s("a"), int(1))]),
                    Expr::Struct(vec![(s("a"), call("utcnow", vec![]))])
                ]),
                single: false
            }
        );
        assert_err(
            "INSERT INTO T",
            "expected VALUE, a bag << … >> or ? after the table name",
        );
        assert_err("INSERT INTO T;", "expected VALUE, a bag");
        assert_err("INSERT T VALUE 1", "expected INTO after INSERT");
        assert_err("INSERT INTO T VALUES (1, 2)", "VALUES is not supported");
        assert_err(
            "INSERT INTO T VALUE",
            "expected an expression, found end of input",
        );
    }

    #[test]
    fn update_set() {
        let parsed =
            ok("UPDATE account BY account_id SET balance = balance + ? WHERE account_id = ?");
        assert_eq!(parsed.param_count, 2);
        assert_eq!(
            parsed.statement,
            Statement::Mutate(Mutation {
                target: target("account", None, Some("account_id")),
                extra_sources: vec![],
                where_: Some(eq(var("account_id"), p(1))),
                ops: vec![DmlOp::Set {
                    path: var("balance"),
                    value: bin(BinaryOp::Add, var("balance"), p(0)),
                }],
            })
        );
        assert_eq!(
            stmt("UPDATE Person AS p SET p.a = 1, p.b[0].c = 'x' WHERE p.id = 3"),
            Statement::Mutate(Mutation {
                target: target("Person", Some("p"), None),
                extra_sources: vec![],
                where_: Some(eq(dotted("p.id"), int(3))),
                ops: vec![
                    DmlOp::Set {
                        path: dotted("p.a"),
                        value: int(1)
                    },
                    DmlOp::Set {
                        path: path(var("p"), vec![field("b"), idx(int(0)), field("c")]),
                        value: s("x")
                    },
                ],
            })
        );
        // The alias itself (replaces the document).
        let Statement::Mutate(m) = stmt("UPDATE T AS t SET t = ?") else {
            panic!()
        };
        assert_eq!(
            m.ops,
            vec![DmlOp::Set {
                path: var("t"),
                value: p(0)
            }]
        );
        // Bare alias.
        let Statement::Mutate(m) = stmt("UPDATE T t BY id SET t.x = 1") else {
            panic!()
        };
        assert_eq!(m.target, target("T", Some("t"), Some("id")));
    }

    #[test]
    fn update_several_ops() {
        let Statement::Mutate(m) = stmt(
            "UPDATE T SET a = 1 REMOVE b INSERT INTO c VALUE 2 AT 0 SET d = 3, e = 4 WHERE x = 1",
        ) else {
            panic!()
        };
        assert_eq!(
            m.ops,
            vec![
                DmlOp::Set {
                    path: var("a"),
                    value: int(1)
                },
                DmlOp::Remove { path: var("b") },
                DmlOp::InsertInto {
                    path: var("c"),
                    value: int(2),
                    at: Some(int(0))
                },
                DmlOp::Set {
                    path: var("d"),
                    value: int(3)
                },
                DmlOp::Set {
                    path: var("e"),
                    value: int(4)
                },
            ]
        );
        assert_eq!(m.where_, Some(eq(var("x"), int(1))));
    }

    #[test]
    fn update_insert_and_remove() {
        let Statement::Mutate(m) =
            stmt("UPDATE Person AS p INSERT INTO p.Addresses VALUE {'c': 'x'} WHERE p.id = ?")
        else {
            panic!()
        };
        assert_eq!(
            m.ops,
            vec![DmlOp::InsertInto {
                path: dotted("p.Addresses"),
                value: Expr::Struct(vec![(s("c"), s("x"))]),
                at: None
            }]
        );
        let Statement::Mutate(m) = stmt("UPDATE T AS t REMOVE t.a[1]") else {
            panic!()
        };
        assert_eq!(
            m.ops,
            vec![DmlOp::Remove {
                path: path(var("t"), vec![field("a"), idx(int(1))])
            }]
        );
        assert_eq!(m.where_, None);
        assert_err(
            "UPDATE T WHERE a = 1",
            "expected SET, INSERT INTO or REMOVE",
        );
        assert_err("UPDATE T SET a 1", "expected '=' in SET");
        assert_err("UPDATE T SET 1 = 2", "expected a path");
        assert_err("UPDATE T INSERT INTO a 1", "expected VALUE");
        assert_err(
            "UPDATE T SET a = 1 WHERE",
            "expected an expression, found end of input",
        );
    }

    #[test]
    fn delete_forms() {
        assert_eq!(
            stmt("DELETE FROM Person AS p WHERE p.Name = ?"),
            Statement::Delete {
                target: target("Person", Some("p"), None),
                where_: Some(eq(dotted("p.Name"), p(0)))
            }
        );
        assert_eq!(
            stmt("DELETE FROM NonExistentTable"),
            Statement::Delete {
                target: target("NonExistentTable", None, None),
                where_: None
            }
        );
        assert_eq!(
            stmt("delete from T BY pid WHERE pid = ?"),
            Statement::Delete {
                target: target("T", None, Some("pid")),
                where_: Some(eq(var("pid"), p(0)))
            }
        );
        assert_err("DELETE T", "expected FROM after DELETE");
    }

    #[test]
    fn dml_from() {
        let parsed = ok("FROM Person AS p WHERE p.Name = ? INSERT INTO p.Addresses VALUE ?");
        assert_eq!(parsed.param_count, 2);
        assert_eq!(
            parsed.statement,
            Statement::Mutate(Mutation {
                target: target("Person", Some("p"), None),
                extra_sources: vec![],
                where_: Some(eq(dotted("p.Name"), p(0))),
                ops: vec![DmlOp::InsertInto {
                    path: dotted("p.Addresses"),
                    value: p(1),
                    at: None
                }],
            })
        );
        let Statement::Mutate(m) = stmt(
            "FROM Person AS p BY pid, p.Addresses AS a AT i WHERE pid = ? AND a.city = 'x' \
             SET a.zip = '1', a.city = 'y' REMOVE a.old",
        ) else {
            panic!()
        };
        assert_eq!(m.target, target("Person", Some("p"), Some("pid")));
        assert_eq!(
            m.extra_sources,
            vec![FromItem {
                source: dotted("p.Addresses"),
                alias: Some("a".into()),
                at: Some("i".into()),
                by: None,
                on: None
            }]
        );
        assert_eq!(m.ops.len(), 3);
        let Statement::Mutate(m) = stmt("FROM T REMOVE T.x") else {
            panic!()
        };
        assert_eq!(m.where_, None);
        assert_eq!(
            m.ops,
            vec![DmlOp::Remove {
                path: dotted("T.x")
            }]
        );
        assert_err(
            "FROM T WHERE a = 1",
            "expected SET, INSERT INTO or REMOVE, found end of input",
        );
        assert_err(
            "FROM T AS t SELECT *",
            "expected SET, INSERT INTO or REMOVE, found keyword 'SELECT'",
        );
    }

    #[test]
    fn exec() {
        let parsed =
            ok("EXEC redact_revision ?, '5PLf9SXwndd63lPaSIa0O6', 'JUJgkIcNbhS2goq8RqLuZ4'");
        assert_eq!(parsed.param_count, 1);
        assert_eq!(
            parsed.statement,
            Statement::Exec {
                procedure: "redact_revision".into(),
                args: vec![
                    p(0),
                    s("5PLf9SXwndd63lPaSIa0O6"),
                    s("JUJgkIcNbhS2goq8RqLuZ4")
                ]
            }
        );
        assert_eq!(
            stmt("exec REDACT_REVISION `{ledgerName: \"x\"}`, 'a', 'b';"),
            Statement::Exec {
                procedure: "redact_revision".into(),
                args: vec![ion("{ledgerName: \"x\"}"), s("a"), s("b")]
            }
        );
        assert_eq!(
            stmt("EXEC p"),
            Statement::Exec {
                procedure: "p".into(),
                args: vec![]
            }
        );
        assert_err("EXEC", "expected a procedure name after EXEC");
        assert_err("EXEC p 1 2", "expected end of statement, found '2'");
    }

    #[test]
    fn more_forms() {
        // INSERT without VALUE takes any expression; a struct inserts one document.
        assert_eq!(
            stmt("INSERT INTO T {'a': -1}"),
            Statement::Insert {
                table: "T".into(),
                value: Expr::Struct(vec![(s("a"), un(UnaryOp::Neg, int(1)))]),
                single: false
            }
        );
        // Reserved words as names must be quoted, in DML paths too.
        let Statement::Mutate(m) = stmt("UPDATE T AS t SET t.\"value\" = 1, \"order\" = 2") else {
            panic!()
        };
        assert_eq!(
            m.ops,
            vec![
                DmlOp::Set {
                    path: path(var("t"), vec![field("value")]),
                    value: int(1)
                },
                DmlOp::Set {
                    path: var("order"),
                    value: int(2)
                },
            ]
        );
        assert_err("UPDATE T SET order = 1", "must be double-quoted");
        // `@` paths as DML targets.
        let Statement::Mutate(m) = stmt("FROM T AS t REMOVE @t.a") else {
            panic!()
        };
        assert_eq!(
            m.ops,
            vec![DmlOp::Remove {
                path: path(at_var("t"), vec![field("a")])
            }]
        );
        // Multi-line statements with CRLF.
        let q = query("SELECT *\r\nFROM T\r\nWHERE a = ?;\r\n");
        assert_eq!(q.where_, Some(eq(var("a"), p(0))));
        // Comparison chains are left-associative.
        assert_eq!(
            expr("a = b <> c"),
            bin(BinaryOp::Ne, eq(var("a"), var("b")), var("c"))
        );
        // NOT binds looser than comparison, so it cannot follow `=`.
        assert_err(
            "SELECT * FROM T WHERE a = NOT b",
            "expected an expression, found keyword 'NOT'",
        );
    }

    // ----- rejected syntax ----------------------------------------------------------------

    #[test]
    fn unsupported_features_are_named() {
        for (text, msg) in [
            ("SELECT * FROM T GROUP BY a", "GROUP BY is not supported"),
            (
                "SELECT * FROM T WHERE a = 1 GROUP BY a",
                "GROUP BY is not supported",
            ),
            ("SELECT * FROM T HAVING a = 1", "HAVING is not supported"),
            ("SELECT * FROM T LIMIT 1", "LIMIT is not supported"),
            ("SELECT * FROM T ORDER BY a", "ORDER BY is not supported"),
            (
                "SELECT * FROM T WHERE a = 1 ORDER BY a DESC",
                "ORDER BY is not supported",
            ),
            (
                "SELECT * FROM T ORDER BY a LIMIT 1",
                "ORDER BY is not supported",
            ),
            ("SELECT * FROM T OFFSET 1", "OFFSET is not supported"),
            ("SELECT DISTINCT a FROM T", "DISTINCT is not supported"),
            (
                "SELECT * FROM A LEFT JOIN B ON A.x = B.x",
                "LEFT JOIN is not supported",
            ),
            (
                "SELECT * FROM A RIGHT OUTER JOIN B ON A.x = B.x",
                "RIGHT JOIN is not supported",
            ),
            (
                "SELECT * FROM A FULL JOIN B ON A.x = B.x",
                "FULL JOIN is not supported",
            ),
            (
                "SELECT * FROM A a OUTER JOIN B ON a.x = B.x",
                "OUTER JOIN is not supported",
            ),
            (
                "SELECT * FROM A NATURAL JOIN B",
                "NATURAL JOIN is not supported",
            ),
            (
                "SELECT * FROM A UNION SELECT * FROM B",
                "UNION is not supported",
            ),
            (
                "SELECT * FROM A INTERSECT SELECT * FROM B",
                "INTERSECT is not supported",
            ),
            (
                "SELECT * FROM A EXCEPT SELECT * FROM B",
                "EXCEPT is not supported",
            ),
            (
                "(SELECT * FROM A) UNION (SELECT * FROM B)",
                "unknown statement",
            ),
            ("PIVOT v AT k FROM T", "PIVOT is not supported"),
            (
                "SELECT * FROM UNPIVOT T AS v AT k",
                "UNPIVOT is not supported",
            ),
            ("SELECT * FROM g MATCH (a)", "MATCH is not supported"),
            (
                "SELECT CASE WHEN a THEN 1 END FROM T",
                "CASE is not supported",
            ),
            (
                "SELECT * FROM T WHERE CASE a WHEN 1 THEN true END",
                "CASE is not supported",
            ),
            ("SELECT * FROM T LET 1 AS x", "LET is not supported"),
        ] {
            assert_err(text, msg);
        }
    }

    #[test]
    fn unknown_statements() {
        assert_err("SHOW TABLES", "unknown statement: expected SELECT, INSERT, UPDATE, DELETE, FROM, CREATE, DROP, UNDROP or EXEC, found 'SHOW'");
        assert_err(
            "WITH x AS (SELECT * FROM T) SELECT * FROM x",
            "unknown statement",
        );
        assert_err("1 + 1", "unknown statement");
        assert_err("SELEC * FROM T", "found 'SELEC'");
        assert_err("VALUES (1)", "VALUES is not supported");
    }

    #[test]
    fn empty_input() {
        for text in ["", "   ", "-- only a comment", "/* x */", ";"] {
            assert_err(text, "empty statement");
        }
    }

    #[test]
    fn error_positions() {
        let e = parse("SELECT * FORM T").unwrap_err();
        assert_eq!(
            e.message,
            "Syntax error at line 1, column 10: expected FROM, found 'FORM'"
        );
        assert_eq!((e.line, e.column, e.offset), (1, 10, 9));
        assert_eq!(e.to_string(), e.message);
        let e = parse("SELECT *\nFROM T\n  WHERE a = = 1").unwrap_err();
        assert_eq!((e.line, e.column), (3, 13));
        assert!(
            e.message.contains("expected an expression, found '='"),
            "{}",
            e.message
        );
        let e = parse("SELECT 'é' FROM T WHERE ~").unwrap_err();
        assert_eq!((e.line, e.column), (1, 25));
        assert!(
            e.message.contains("unexpected character '~'"),
            "{}",
            e.message
        );
        let e = parse("SELECT * FROM T WHERE a = 'abc").unwrap_err();
        assert!(e
            .message
            .starts_with("Syntax error at line 1, column 27: unterminated string"));
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().contains("unterminated"));
    }

    #[test]
    fn malformed_statements() {
        for (text, msg) in [
            (
                "SELECT * FROM T WHERE (a = 1",
                "expected ')', found end of input",
            ),
            (
                "SELECT * FROM T WHERE a = 1)",
                "expected end of statement, found ')'",
            ),
            ("SELECT * FROM T WHERE ((a)", "expected ')'"),
            ("SELECT * FROM T WHERE f(a", "expected ',' or ')'"),
            (
                "SELECT * FROM T T2 T3",
                "expected end of statement, found 'T3'",
            ),
            (
                "SELECT * FROM T WHERE",
                "expected an expression, found end of input",
            ),
            (
                "SELECT * FROM",
                "expected an expression, found end of input",
            ),
            (
                "SELECT FROM T",
                "expected an expression, found keyword 'FROM'",
            ),
            ("SELECT 1", "expected FROM, found end of input"),
            (
                "SELECT a FROM T WHERE a = 1 b = 2",
                "expected end of statement, found 'b'",
            ),
            ("SELECT * FROM T AS", "expected an alias after AS"),
            ("SELECT * FROM T AS value", "must be double-quoted"),
            ("SELECT * FROM T BY", "expected a name after BY"),
            ("SELECT * FROM T WHERE value = 1", "must be double-quoted"),
            (
                "SELECT * FROM T WHERE a = SELECT",
                "a subquery must be in parentheses",
            ),
            ("SELECT * FROM T WHERE a = `{a:`", "invalid Ion literal"),
            ("SELECT * FROM T WHERE a = ``", "invalid Ion literal"),
            ("SELECT * FROM T WHERE a = `1 2`", "invalid Ion literal"),
            (
                "SELECT * FROM T WHERE a NOT b",
                "expected end of statement, found keyword 'NOT'",
            ),
            ("SELECT * FROM T INNER B", "expected JOIN after INNER"),
            ("SELECT * FROM T WHERE @ = 1", "expected a name after '@'"),
            (
                "SELECT * FROM T WHERE a = 1 -",
                "expected an expression, found end of input",
            ),
        ] {
            assert_err(text, msg);
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // Run on a thread with a small stack to prove the depth limit protects it.
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let deep = format!(
                    "SELECT * FROM T WHERE {}1{}",
                    "(".repeat(5000),
                    ")".repeat(5000)
                );
                assert_err(&deep, "nested too deeply");
                let deep = format!("SELECT * FROM T WHERE {}1", "- ".repeat(5000));
                assert_err(&deep, "nested too deeply");
                let deep = format!("SELECT * FROM T WHERE {}a", "NOT ".repeat(5000));
                assert_err(&deep, "nested too deeply");
                let deep = format!(
                    "SELECT * FROM T WHERE a = {}1{}",
                    "[".repeat(5000),
                    "]".repeat(5000)
                );
                assert_err(&deep, "nested too deeply");
                let deep = format!(
                    "SELECT * FROM T WHERE a = {}1{}",
                    "f(".repeat(5000),
                    ")".repeat(5000)
                );
                assert_err(&deep, "nested too deeply");
                let deep = format!(
                    "SELECT * FROM T WHERE a = {}",
                    "(SELECT * FROM T WHERE a = ".repeat(5000)
                );
                assert_err(&deep, "nested too deeply");
                let deep = format!("SELECT * FROM T WHERE a = {}", "{'a': ".repeat(5000));
                assert_err(&deep, "nested too deeply");
                let long = format!("SELECT * FROM T WHERE a = 0{}", " OR a = 1".repeat(5000));
                assert_err(&long, "nested too deeply");
                let long = format!("SELECT VALUE 0{} FROM T", " + 1".repeat(5000));
                assert_err(&long, "nested too deeply");
                // Moderate nesting and chains are fine.
                let chain = format!("SELECT * FROM T WHERE a = 0{}", " OR a = ?".repeat(150));
                assert_eq!(parse(&chain).unwrap().param_count, 150);
                let calls = format!("SELECT VALUE {}1{} FROM T", "f(".repeat(60), ")".repeat(60));
                parse(&calls).unwrap();
                let subs = format!(
                    "SELECT * FROM T WHERE a = {}1{}",
                    "(SELECT VALUE x FROM U WHERE b = ".repeat(30),
                    ")".repeat(30)
                );
                parse(&subs).unwrap();
                let ok_depth = format!(
                    "SELECT * FROM T WHERE {}1{}",
                    "(".repeat(40),
                    ")".repeat(40)
                );
                parse(&ok_depth).unwrap();
            })
            .unwrap()
            .join()
            .unwrap();
    }

    // ----- robustness ---------------------------------------------------------------------

    const CORPUS: &[&str] = &[
        "SELECT * FROM Vehicle AS v WHERE v.VIN = ?",
        "SELECT r_id FROM T AS r BY r_id WHERE r.Name = 'x'",
        "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'",
        "SELECT VALUE indexes[0] FROM information_schema.user_tables WHERE status = 'ACTIVE' AND name = 'T'",
        "SELECT * FROM history(Person, `2019-06-05T00:00:00Z`, `2019-06-06T00:00:00Z`) AS h WHERE h.metadata.id = ?",
        "SELECT * FROM _ql_committed_Person WHERE data.Name = ?",
        "SELECT COUNT(*) FROM T",
        "SELECT TXID() FROM << 0 >>",
        "UPDATE account BY account_id SET balance = balance + ? WHERE account_id = ?",
        "FROM Person AS p WHERE p.Name = ? INSERT INTO p.Addresses VALUE ?",
        "SELECT * FROM t AS a, t AS b, t AS c",
        "SELECT o.name FROM Person AS p, p.Owners AS o",
        "INSERT INTO T <<?, ?>>",
        "SELECT VALUE DATE_ADD(month, 1, `2010T`) FROM T",
        r"SELECT * FROM T WHERE 'x' LIKE 'a%' ESCAPE '\' AND a NOT IN (1,2) AND x IS NOT MISSING",
        "SELECT * FROM T WHERE status = 'ACTIVE'AND name = ?",
        "CREATE TABLE T WITH (aws_tags = `{'k':'v'}`)",
        "DROP INDEX \"x\" ON T WITH (purge = true)",
        "INSERT INTO T VALUE {'a': [1, 2.50, 3e0, \"q\"], b: TRIM(LEADING 'x' FROM s)}",
        "SELECT CAST(x AS INT), SUBSTRING(s FROM 1 FOR 2), EXTRACT(YEAR FROM t) FROM T /* c */ -- d",
        "EXEC redact_revision ?, 'a', 'b';",
        "SELECT * FROM A INNER JOIN B ON A.x = B.x WHERE EXISTS(SELECT * FROM C)",
    ];

    #[test]
    fn corpus_parses() {
        for text in CORPUS {
            ok(text);
        }
    }

    #[test]
    fn truncations_never_panic() {
        for text in CORPUS {
            for (i, _) in text.char_indices() {
                let _ = parse(&text[..i]);
                let _ = parse(&text[i..]);
            }
        }
    }

    const FRAGMENTS: &[&str] = &[
        "SELECT",
        "VALUE",
        "*",
        "FROM",
        "WHERE",
        "AS",
        "AT",
        "BY",
        "T",
        "a",
        "\"Q\"",
        "'s'",
        "`1`",
        "`{a:",
        "?",
        "1",
        "1.5",
        "1e3",
        ".",
        ",",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "<<",
        ">>",
        ":",
        ";",
        "@",
        "=",
        "<>",
        "<",
        "+",
        "-",
        "*",
        "/",
        "%",
        "||",
        "AND",
        "OR",
        "NOT",
        "IN",
        "IS",
        "NULL",
        "MISSING",
        "LIKE",
        "ESCAPE",
        "BETWEEN",
        "INSERT",
        "INTO",
        "UPDATE",
        "SET",
        "REMOVE",
        "DELETE",
        "CREATE",
        "DROP",
        "TABLE",
        "INDEX",
        "ON",
        "WITH",
        "JOIN",
        "INNER",
        "CROSS",
        "ORDER",
        "GROUP",
        "EXEC",
        "COUNT",
        "CAST",
        "TRIM",
        "SUBSTRING",
        "EXTRACT",
        "DATE_ADD",
        "LEADING",
        "FOR",
        "--",
        "/*",
        "*/",
        "'",
        "\"",
        "`",
        "é",
        "\n",
    ];

    proptest::proptest! {
        #[test]
        fn random_token_soup_never_panics(picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..40)) {
            let text = picks.iter().map(|&i| FRAGMENTS[i]).collect::<Vec<_>>().join(" ");
            let _ = parse(&text);
            let glued = picks.iter().map(|&i| FRAGMENTS[i]).collect::<String>();
            let _ = parse(&glued);
        }

        #[test]
        fn random_text_never_panics(text in "\\PC{0,80}") {
            let _ = parse(&text);
        }

        #[test]
        fn mutated_corpus_never_panics(which in 0..CORPUS.len(), at in 0usize..200, junk in "[ -~]{0,4}") {
            let base = CORPUS[which];
            let mut cut = at.min(base.len());
            while !base.is_char_boundary(cut) {
                cut -= 1;
            }
            let text = format!("{}{}{}", &base[..cut], junk, &base[cut..]);
            let _ = parse(&text);
        }
    }
}
