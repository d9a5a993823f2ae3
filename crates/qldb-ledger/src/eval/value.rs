//! The runtime value of the evaluator: an Ion element (borrowed from the ledger's documents
//! where possible, so scans do not copy documents), PartiQL's `MISSING`, or a bag.

use ion_rs::{Element, IonType};

/// A PartiQL value during evaluation. `'a` is the lifetime of the documents being read.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// PartiQL `MISSING`: an absent field or an undefined result.
    Missing,
    /// An Ion value borrowed from a document or a parameter.
    Ref(&'a Element),
    /// An Ion value computed during evaluation.
    Owned(Element),
    /// An unordered collection (bag literal `<< >>`, a subquery's result).
    Bag(Vec<Value<'a>>),
}

impl<'a> Value<'a> {
    /// The Ion element, if this is neither MISSING nor a bag.
    pub fn element(&self) -> Option<&Element> {
        match self {
            Value::Ref(e) => Some(e),
            Value::Owned(e) => Some(e),
            Value::Missing | Value::Bag(_) => None,
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing)
    }

    /// True for MISSING and for every Ion null (`null`, `null.int`, …).
    pub fn is_absent(&self) -> bool {
        match self {
            Value::Missing => true,
            Value::Bag(_) => false,
            _ => self.element().map(|e| e.is_null()).unwrap_or(false),
        }
    }

    /// The Ion type, if this is an Ion value.
    pub fn ion_type(&self) -> Option<IonType> {
        self.element().map(|e| e.ion_type())
    }

    /// Converts to an owned Ion element. MISSING has no Ion form and becomes `None`; a bag
    /// becomes an Ion list of its (non-MISSING) members.
    pub fn into_element(self) -> Option<Element> {
        match self {
            Value::Missing => None,
            Value::Ref(e) => Some(e.clone()),
            Value::Owned(e) => Some(e),
            Value::Bag(items) => Some(Element::from(ion_rs::List::from(
                items
                    .into_iter()
                    .filter_map(Value::into_element)
                    .collect::<Vec<_>>(),
            ))),
        }
    }

    /// Detaches the value from the documents it borrows from.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Missing => Value::Missing,
            Value::Ref(e) => Value::Owned(e.clone()),
            Value::Owned(e) => Value::Owned(e),
            Value::Bag(items) => Value::Bag(items.into_iter().map(Value::into_owned).collect()),
        }
    }

    pub fn null() -> Value<'static> {
        Value::Owned(Element::null(IonType::Null))
    }

    pub fn bool(b: bool) -> Value<'static> {
        Value::Owned(Element::from(b))
    }
}

impl From<Element> for Value<'_> {
    fn from(e: Element) -> Self {
        Value::Owned(e)
    }
}
