//! The syntax tree of QLDB's PartiQL dialect: what the parser produces and the evaluator consumes.
//!
//! The tree is deliberately small: it holds exactly the statements and expressions QLDB accepted.
//! Syntax QLDB rejected (GROUP BY, LIMIT, outer joins, set operators, …) never reaches it; the
//! parser refuses it with a clear message.

use ion_rs::Element;

/// One parsed statement together with the number of `?` placeholders it contains.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedStatement {
    pub statement: Statement,
    /// Number of `?` placeholders in the text (outside strings, quoted identifiers and backticks).
    pub param_count: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT …`
    Select(Query),
    /// ``CREATE TABLE name [WITH (aws_tags = `{…}`)]``
    CreateTable { name: String, tags: Option<Expr> },
    /// `DROP TABLE name`
    DropTable { name: String },
    /// `UNDROP TABLE "<tableId>"` (the identifier is the table id)
    UndropTable { table_id: String },
    /// `CREATE INDEX ON table (field)`
    CreateIndex { table: String, field: String },
    /// `DROP INDEX "<indexId>" ON table WITH (purge = true)`
    DropIndex { index_id: String, table: String },
    /// `INSERT INTO table VALUE expr`, `INSERT INTO table << e, … >>`, `INSERT INTO table ?`.
    /// `value` is the expression after the table name; for `VALUE e` it is `e` and `single` is
    /// true. For the other forms `single` is false: a bag or list value inserts each element, a
    /// struct value inserts one document.
    Insert {
        table: String,
        value: Expr,
        single: bool,
    },
    /// `UPDATE t [AS a] [BY id] SET …|INSERT INTO …|REMOVE … [WHERE …]` and the QLDB extension
    /// `FROM t [AS a] [BY id] [, path AS n …] [WHERE …] SET …|INSERT INTO …|REMOVE …`.
    Mutate(Mutation),
    /// `DELETE FROM t [AS a] [BY id] [WHERE …]`
    Delete {
        target: DmlTarget,
        where_: Option<Expr>,
    },
    /// `EXEC name arg, arg, …` (for example `EXEC redact_revision ?, 'tableId', 'docId'`)
    Exec { procedure: String, args: Vec<Expr> },
}

/// The table a DML statement changes, with its optional alias and document-id binding.
#[derive(Debug, Clone, PartialEq)]
pub struct DmlTarget {
    pub table: String,
    pub alias: Option<String>,
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    pub target: DmlTarget,
    /// Further FROM items after the table (only `FROM`-DML): nested collections of the document.
    pub extra_sources: Vec<FromItem>,
    pub where_: Option<Expr>,
    /// Operations in the order written. `UPDATE … SET a = 1, b = 2` gives one `Set` per assignment.
    pub ops: Vec<DmlOp>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DmlOp {
    /// `SET path = value`
    Set { path: Expr, value: Expr },
    /// `INSERT INTO path VALUE value [AT key]`
    InsertInto {
        path: Expr,
        value: Expr,
        at: Option<Expr>,
    },
    /// `REMOVE path`
    Remove { path: Expr },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub projection: Projection,
    /// Comma-separated sources and `[INNER] JOIN … [ON …]` items, in order; a join's condition
    /// is in its item's `on`.
    pub from: Vec<FromItem>,
    pub where_: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// `SELECT *`
    Star,
    /// `SELECT VALUE expr`
    Value(Expr),
    /// `SELECT a, b.c AS x, t.*`
    Items(Vec<ProjItem>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProjItem {
    Expr {
        expr: Expr,
        alias: Option<String>,
    },
    /// `alias.*`: every field of the struct the expression yields.
    AllFields(Expr),
}

/// One FROM source. `source` is an expression: a bare name that is not a bound variable is a
/// table (`T`, `_ql_committed_T`), `information_schema.user_tables` is a path, `p.Owners` is a
/// path into an earlier alias, `history(T, …)` is a call, `<< 0 >>` is a bag literal.
#[derive(Debug, Clone, PartialEq)]
pub struct FromItem {
    pub source: Expr,
    pub alias: Option<String>,
    pub at: Option<String>,
    pub by: Option<String>,
    /// `ON` condition of an `[INNER] JOIN` item; `None` for comma items and `CROSS JOIN`.
    pub on: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal: numbers, strings, `true`/`false`, `null`, typed Ion literals in backticks.
    /// Integers parse as Ion ints (arbitrary size), `1.5` as an Ion decimal keeping its
    /// precision, `1.5e0` as an Ion float, `'x'` as an Ion string.
    Lit(Element),
    /// `MISSING`
    Missing,
    /// The `index`-th `?` (0-based, in text order).
    Param(usize),
    /// A variable or field name. `at_prefixed` is true for `@name` (forces a variable lookup).
    Var {
        name: String,
        at_prefixed: bool,
    },
    /// `root.step…` or `root[expr]…`
    Path {
        root: Box<Expr>,
        steps: Vec<PathStep>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `value [NOT] LIKE pattern [ESCAPE esc]`
    Like {
        value: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<Box<Expr>>,
        negated: bool,
    },
    /// `value [NOT] BETWEEN low AND high`
    Between {
        value: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// `value [NOT] IN list`; `list` is usually `Expr::List` from `( … )` or `[ … ]`, a `?`, or a
    /// subquery.
    In {
        value: Box<Expr>,
        list: Box<Expr>,
        negated: bool,
    },
    /// `value IS [NOT] NULL|MISSING|<type>`
    Is {
        value: Box<Expr>,
        test: IsTest,
        negated: bool,
    },
    /// A function call, name lower-cased. `COUNT(*)` is `Call { name: "count", args: [], star: true }`.
    /// Keyword arguments are normalised to positional ones:
    /// `EXTRACT(YEAR FROM ts)` → `extract(Lit(symbol year), ts)`;
    /// `DATE_ADD(month, 1, ts)` → `date_add(Lit(symbol month), 1, ts)` (same for `date_diff`);
    /// `TRIM([LEADING|TRAILING|BOTH] [chars] FROM s)` → `trim(Lit(symbol both), chars|Missing, s)`,
    /// and plain `TRIM(s)` → `trim(Lit(symbol both), Missing, s)`;
    /// `SUBSTRING(s FROM a [FOR b])` → `substring(s, a[, b])`.
    Call {
        name: String,
        args: Vec<Expr>,
        star: bool,
    },
    /// `CAST(value AS type)`; `type_name` lower-cased (`int`, `decimal`, `string`, `timestamp`, …).
    Cast {
        value: Box<Expr>,
        type_name: String,
    },
    /// `{ key: value, … }` with expression keys (PartiQL struct constructor).
    Struct(Vec<(Expr, Expr)>),
    /// `[ a, b ]`, also a parenthesised list `(a, b)` on the right of IN.
    List(Vec<Expr>),
    /// `<< a, b >>`
    Bag(Vec<Expr>),
    /// A nested `SELECT` in parentheses.
    Subquery(Box<Query>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    /// `.name` or `."Name"`
    Field(String),
    /// `[expr]`: a list index (int) or a field name (string)
    Index(Box<Expr>),
    /// `[*]`
    Wildcard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Pos,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsTest {
    Null,
    Missing,
    /// A type name, lower-cased: `int`, `string`, `struct`, `list`, …
    Type(String),
}
